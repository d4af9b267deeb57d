#!/bin/sh
# Back up the inventory database: one pg_dump archive (custom format, no owners) per run,
# named by the UTC time it started, in BACKUP_DIR; the newest BACKUP_KEEP are kept.
#
#   DATABASE_URL=postgres://user@host:5432/inventory BACKUP_DIR=/backups deploy/backup/backup.sh
#
# Environment:
#   DATABASE_URL   the database to dump, as the app reads it; without it, libpq's PGHOST,
#                  PGPORT, PGUSER, PGPASSWORD/PGPASSFILE and PGDATABASE say which.
#   BACKUP_DIR     where the archives go (created if missing); default ./backups
#   BACKUP_KEEP    how many archives to keep, newest first; 0 keeps all; default 14
#   BACKUP_PREFIX  the archives' name before the time stamp; default "inventory"
#
# The archive is written under a hidden temporary name and renamed only once pg_dump has
# finished and pg_restore can read its table of contents, so BACKUP_DIR never holds half an
# archive under a real name. The last line on standard output is the archive's path.
# Restore it with deploy/backup/restore.sh.
set -eu

BACKUP_DIR=${BACKUP_DIR:-./backups}
BACKUP_KEEP=${BACKUP_KEEP:-14}
BACKUP_PREFIX=${BACKUP_PREFIX:-inventory}

say() { printf 'backup: %s\n' "$*" >&2; }
fail() {
    say "$*"
    exit 1
}

case $BACKUP_KEEP in
'' | *[!0-9]*) fail "BACKUP_KEEP must be a whole number (0 keeps every archive), not '$BACKUP_KEEP'." ;;
esac
case $BACKUP_PREFIX in
'' | *[!A-Za-z0-9._-]*) fail "BACKUP_PREFIX may hold letters, digits, '.', '_' and '-' only." ;;
esac

# libpq reads postgres:// and postgresql:// URLs; the app also accepts pgsql://.
dbname=
if [ -n "${DATABASE_URL:-}" ]; then
    case $DATABASE_URL in
    postgres://* | postgresql://*) dbname=$DATABASE_URL ;;
    pgsql://*) dbname=postgresql://${DATABASE_URL#pgsql://} ;;
    *) fail "DATABASE_URL is not a PostgreSQL URL; only PostgreSQL databases are backed up." ;;
    esac
fi

umask 077 # the archive holds every account's password hash
mkdir -p "$BACKUP_DIR"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
name=$BACKUP_PREFIX-$stamp.dump
final=$BACKUP_DIR/$name
partial=$BACKUP_DIR/.$name.partial
[ ! -e "$final" ] || fail "$final exists already; one backup a second at most."

cleanup() { rm -f "$partial"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "dumping to $final"
if [ -n "$dbname" ]; then
    pg_dump --format=custom --no-owner --file="$partial" --dbname="$dbname"
else
    pg_dump --format=custom --no-owner --file="$partial"
fi
pg_restore --list "$partial" >/dev/null || fail "pg_restore cannot read the new archive; kept none."
mv "$partial" "$final"
trap - EXIT INT TERM

if [ "$BACKUP_KEEP" -gt 0 ]; then
    # Only this script's own names count. They sort by time, and the shell lists a
    # pattern's matches sorted (bytewise under LC_ALL=C).
    (
        cd "$BACKUP_DIR"
        LC_ALL=C
        export LC_ALL
        d='[0-9]' # BACKUP_PREFIX holds no pattern characters (checked above)
        stamped=$BACKUP_PREFIX-$d$d$d$d$d$d$d${d}T$d$d$d$d$d${d}Z.dump
        count=0
        for archive in $stamped; do
            if [ -f "$archive" ]; then count=$((count + 1)); fi
        done
        surplus=$((count - BACKUP_KEEP))
        for archive in $stamped; do
            [ "$surplus" -gt 0 ] || break
            [ -f "$archive" ] || continue
            say "removing $BACKUP_DIR/$archive (keeping the newest $BACKUP_KEEP)"
            rm -f "$archive"
            surplus=$((surplus - 1))
        done
    )
fi

size=$(wc -c <"$final" | tr -d ' ')
say "done: $final ($size bytes)"
printf '%s\n' "$final"
