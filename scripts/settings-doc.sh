#!/bin/sh
# settings-doc.sh BIN_DIR: docs/settings.md, on standard output, from the
# programs' own --help tables, so the page follows the settings' tables in
# the code (lib/lot_settings.c, client/lot_client_config.c); `make docs`
# writes it, and test_settings fails when it is stale.
set -eu
table () {   # table PROGRAM: the Markdown table rows of PROGRAM --help
    "$1/$2" --help | grep '^|'
}
cat <<'MD'
# Settings

Written by `make docs` from the programs' `--help`: edit the tables in
`lib/lot_settings.c` and `client/lot_client_config.c`, not this page.
Every program prints the settings it runs with in its `action: config`
line at start.

## Server programs

`config.ini` holds the course's four keys (`SERVER_PORT`, `SERVER_IP`,
`SERVER_LISTEN_BACKLOG`, `LOGGING_LEVEL`) under `[DEFAULT]`; an
environment variable of the same name overrides each. Any other setting
of the table may be written there too, in any section, and comes from
the environment otherwise. Every server program reads the same
table (`bin/lottery-server --help`). A bound endpoint with port `*`
(`tcp://127.0.0.1:*`) gets one the system picks, shown in the binding
actor's `socket_open | ... | mode: bind | endpoint: ...` line. For many
agencies, see "Many agencies" in README.md.

MD
table "$1" lottery-server
cat <<'MD'

## The agency client

`config.yaml`, read as dotted keys (`server.address`, `loop.amount`,
...), then the environment (`bin/lottery-client --help`). Durations are
written like `250ms`, `5s`, `10m`.

MD
table "$1" lottery-client
