from inventory_project.kernel.errors import NotFound


class UnknownBranch(NotFound):
    """No such branch, or one the user may not see: the two answer alike."""

    code = "unknown_branch"
