#!/bin/sh
# Restore an archive of deploy/backup/backup.sh into a fresh database and prove it sound.
#
#   deploy/backup/restore.sh [--force] [--migrate] ARCHIVE [TARGET]
#
# TARGET (or RESTORE_DATABASE_URL) is a postgres:// URL, or a database name on the server
# DATABASE_URL (else libpq's PG* variables) points at. A missing database is created; one
# that holds any table, view, sequence or function (an extension's aside) is refused, unless
# --force (RESTORE_FORCE=1), which drops and re-creates it first (and fails while anything is
# connected to it). The archive is restored in one transaction (pg_restore --no-owner
# --exit-on-error --single-transaction): all of it or nothing. Then, against the restored
# database, with this checkout's code:
#
#   manage.py migrate --check   every migration of the code is applied (--migrate applies
#                               the missing ones first, for an archive older than the code)
#   manage.py verify_ledger     every stock level equals the sum of its movements
#   manage.py verify_transfers  stock is conserved across transfers
#
# Exit status: 0 restored and every check clean; 1 the restore or a check failed (the
# restored database is left for inspection); 2 wrong usage or a refused target.
# PYTHON picks the interpreter (default: the checkout's .venv, else python3).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

say() { printf 'restore: %s\n' "$*" >&2; }
usage() {
    say "$*"
    say "usage: $0 [--force] [--migrate] ARCHIVE [TARGET_DATABASE_URL_OR_NAME]"
    exit 2
}
refuse() {
    say "REFUSED: $*"
    exit 2
}
fail() {
    say "FAILED: $*"
    exit 1
}

force=${RESTORE_FORCE:-0}
migrate=0
while [ $# -gt 0 ]; do
    case $1 in
    --force) force=1 ;;
    --migrate) migrate=1 ;;
    --) shift && break ;;
    -*) usage "unknown option $1" ;;
    *) break ;;
    esac
    shift
done
[ $# -ge 1 ] && [ $# -le 2 ] || usage "name the archive to restore."
archive=$1
target=${2:-${RESTORE_DATABASE_URL:-}}
[ -n "$target" ] || usage "name the database to restore into (argument or RESTORE_DATABASE_URL)."
[ -f "$archive" ] || usage "no archive at $archive."

if [ -z "${PYTHON:-}" ]; then
    if [ -x "$root/.venv/bin/python" ]; then PYTHON=$root/.venv/bin/python; else PYTHON=python3; fi
fi

# The target as a URL libpq reads, and the same server's maintenance database.
postgres_url() {
    case $1 in
    postgres://* | postgresql://*) printf '%s' "$1" ;;
    pgsql://*) printf 'postgresql://%s' "${1#pgsql://}" ;;
    *) return 1 ;;
    esac
}
case $target in
*://*)
    url=$(postgres_url "$target") || usage "TARGET is not a PostgreSQL URL."
    ;;
*)
    case $target in *[!A-Za-z0-9_-]*) usage "a database name takes letters, digits, '_' and '-' only." ;; esac
    if [ -n "${DATABASE_URL:-}" ]; then
        server=$(postgres_url "$DATABASE_URL") || usage "DATABASE_URL is not a PostgreSQL URL."
        query=
        case $server in *\?*) query=?${server#*\?} server=${server%%\?*} ;; esac
        case ${server#*://} in
        */*) server=${server%/*} ;;
        esac
        url=$server/$target$query
    else
        url=postgresql:///$target # host, port and user from PGHOST, PGPORT, PGUSER
    fi
    ;;
esac
rest=${url#*://}
case $rest in */*) ;; *) usage "TARGET names no database." ;; esac
query=
case $url in *\?*) query=?${url#*\?} ;; esac
path=${url%%\?*}
path=${path#*://}
path=${path#*/}
dbname=$path
[ -n "$dbname" ] || usage "TARGET names no database."
maintenance=${url%%\?*}
maintenance=${maintenance%/*}/${RESTORE_MAINTENANCE_DB:-postgres}$query

sql() { # sql URL STATEMENT: one value, from psql reading the statement on its input
    printf '%s\n' "$2" | psql --no-psqlrc --quiet --tuples-only --no-align \
        --set=ON_ERROR_STOP=1 --set=name="$dbname" --dbname="$1"
}

say "checking the archive $archive"
pg_restore --list "$archive" >/dev/null || usage "$archive is not a pg_dump archive pg_restore reads."

exists=$(sql "$maintenance" "SELECT count(*) FROM pg_database WHERE datname = :'name';") ||
    fail "cannot reach the server's ${RESTORE_MAINTENANCE_DB:-postgres} database to look for $dbname (RESTORE_MAINTENANCE_DB names another)."
if [ "$exists" = 1 ]; then
    objects=$(sql "$url" "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e'))
      + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e'));") ||
        fail "cannot connect to $dbname to see whether it is empty."
    if [ "$objects" != 0 ]; then
        [ "$force" = 1 ] || refuse "database $dbname is not empty ($objects objects); restore into a fresh one, or pass --force to drop and re-create it."
        say "--force: dropping database $dbname"
        sql "$maintenance" 'DROP DATABASE :"name";' >/dev/null ||
            fail "could not drop $dbname (is something still connected to it?)."
        exists=0
    fi
fi
if [ "$exists" != 1 ]; then
    say "creating database $dbname"
    sql "$maintenance" 'CREATE DATABASE :"name";' >/dev/null ||
        fail "could not create $dbname; create it empty yourself (CREATEDB privilege missing?) and run again."
fi

say "restoring into $dbname"
pg_restore --no-owner --exit-on-error --single-transaction --dbname="$url" "$archive" ||
    fail "pg_restore could not restore $archive; $dbname holds none of it."

manage() { (cd "$root" && DATABASE_URL=$url "$PYTHON" manage.py "$@"); }

if [ "$migrate" = 1 ]; then
    say "applying the code's migrations the archive lacks"
    manage migrate --noinput || fail "manage.py migrate failed on $dbname."
fi
say "manage.py migrate --check"
manage migrate --check --noinput ||
    fail "$dbname lacks migrations of this code (above); restore with --migrate, or with the code the archive was taken with."
say "manage.py verify_ledger"
manage verify_ledger || fail "verify_ledger: the restored ledger disagrees with the stock levels (above)."
say "manage.py verify_transfers"
manage verify_transfers || fail "verify_transfers: the restored transfers do not conserve stock (above)."

say "done: $archive restored into $dbname; migrations, ledger and transfers check clean."
