/*  lottery-enroll - enrolls agencies: their keys, and the server's (see lot_enroll.h)  */
#include "lot_enroll.h"
#include "lot_log.h"

#include <czmq.h>
#include <stdio.h>

#define USAGE \
    "Usage: %s DIR [--rotate | --revoke] AGENCY ...\n" \
    "       %s DIR --agencies N          (enrolls agencies 1 to N)\n" \
    "Enrolls each agency: DIR/agency-N/ is its own (auth.cert: agency_secret,\n" \
    "auth.server: server.pub), DIR/server/secret/agencies_secret the front-end's\n" \
    "AGENCY_CERT, DIR/server/enrolled its AGENCY_KEYS. --rotate gives enrolled\n" \
    "agencies new keys, --revoke takes theirs away; a running server reads the\n" \
    "change within a second, or at once on SIGHUP. Never overwrites a key\n" \
    "unless rotating. docs/deploy.md, \"Enrolled agencies\".\n"

//  An agency number from 1 to 65535, or 0 (lot_enroll says why).
static unsigned
s_agency (const char *text)
{
    char *end;
    unsigned long agency = strtoul (text, &end, 10);
    return *text != '-' && *end == 0 && agency <= 65535 ? (unsigned) agency : 0;
}

int
main (int argc, char *argv [])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    if (argc > 1 && (streq (argv [1], "--help") || streq (argv [1], "-h"))) {
        printf (USAGE, argv [0], argv [0]);
        return 0;
    }
    static const char *verbs [] = { "enroll", "rotate", "revoke" };
    lot_enroll_t what = LOT_ENROLL_NEW;
    int first = 2;
    if (argc > 2 && (streq (argv [2], "--rotate") || streq (argv [2], "--revoke"))) {
        what = streq (argv [2], "--rotate") ? LOT_ENROLL_ROTATE : LOT_ENROLL_REVOKE;
        first = 3;
    }
    bool range = argc == 4 && streq (argv [2], "--agencies");
    unsigned last = range ? s_agency (argv [3]) : (unsigned) (argc - first);
    if (argc <= first || argv [1][0] == '-' || last == 0) {
        fprintf (stderr, USAGE, argv [0], argv [0]);
        return 2;
    }
    int status = 0;
    for (unsigned i = 1; i <= last && status == 0; i++) {
        unsigned agency = range ? i : s_agency (argv [first + i - 1]);
        char *error = NULL;
        if (lot_enroll (argv [1], agency, what, &error) == 0)
            lot_log_info ("action: enroll | result: success | %s: %u | dir: %s",
                          verbs [what], agency, argv [1]);
        else {
            lot_log_error ("action: enroll | result: fail | %s: %s | reason: %s", verbs [what],
                           range ? argv [3] : argv [first + i - 1],
                           error ? error : "out of memory");
            status = 1;
        }
        free (error);
    }
    return status;
}
