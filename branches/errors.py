from inventory_project.errors import NotFound


class UnknownBranch(NotFound):
    """No such branch, or one the user may not see: the two answer alike."""

    code = "unknown_branch"
