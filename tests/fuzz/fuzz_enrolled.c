/*  fuzz_enrolled - the enrolled agencies' directory, one certificate of any bytes

    AGENCY_KEYS is read again whenever it changes, from files an operator
    copies there. Input: the bytes of one NAME.pub file, alone in the
    directory. What must hold: it is read or refused with a reason, never
    a crash; read, it holds one key at most, for one agency from 1 to 5,
    and that key speaks for that agency.
*/
#include "fuzz.h"
#include "lot_enrolled.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char s_dir [] = "/tmp/fuzz-enrolled-XXXXXX";

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    static char *path;
    if (!path) {
        assert (mkdtemp (s_dir));
        path = zsys_sprintf ("%s/agency.pub", s_dir);
    }
    FILE *file = fopen (path, "wb");
    assert (file);
    assert (fwrite (data, 1, size, file) == size);
    assert (fclose (file) == 0);
    char *error = NULL;
    lot_enrolled_t *enrolled = lot_enrolled_new (s_dir, 5, &error);
    if (enrolled) {
        assert (!error);
        assert (lot_enrolled_keys (enrolled) <= 1);
        assert (lot_enrolled_agencies (enrolled) == lot_enrolled_keys (enrolled));
        size_t has = 0;
        for (unsigned agency = 0; agency <= 6; agency++)
            has += lot_enrolled_has (enrolled, agency);
        assert (has == lot_enrolled_agencies (enrolled));
        assert (!lot_enrolled_has (enrolled, 0) && !lot_enrolled_has (enrolled, 6));
        lot_enrolled_destroy (&enrolled);
    }
    else
        assert (error && *error);
    free (error);
    return 0;
}
