/*  lottery-keys - makes the CURVE certificates of a stack (see lot_curve.h)  */
#include "lot_curve.h"
#include "lot_log.h"

#include <stdio.h>

#define USAGE \
    "Usage: %s DIR [NAME ...]\n" \
    "Makes one CURVE certificate per name (default: every actor kind,\n" \
    "broker frontend handler persister coordinator): DIR/secret/NAME and\n" \
    "NAME_secret, given to that actor alone as CURVE_CERT, and\n" \
    "DIR/public/NAME.pub, for the CURVE_PUBLIC_DIR of every host.\n" \
    "Never overwrites a key.\n"

int
main (int argc, char *argv [])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (argc > 1 && (streq (argv [1], "--help") || streq (argv [1], "-h"))) {
        printf (USAGE, argv [0]);
        return 0;
    }
    if (argc < 2 || argv [1][0] == '-') {
        fprintf (stderr, USAGE, argv [0]);
        return 2;
    }
    const char *dir = argv [1];
    const char *const *names = argc > 2 ? (const char *const *) argv + 2 : lot_curve_kinds;
    int status = 0;
    for (size_t i = 0; names [i] && status == 0; i++) {
        char *error = NULL;
        if (lot_curve_make (dir, names [i], &error) == 0)
            lot_log_info ("action: curve_keys | result: success | name: %s"
                          " | cert: %s/secret/%s_secret | public: %s/public/%s.pub",
                          names [i], dir, names [i], dir, names [i]);
        else {
            lot_log_error ("action: curve_keys | result: fail | name: %s | reason: %s",
                           names [i], error ? error : "out of memory");
            status = 1;
        }
        free (error);
    }
    return status;
}
