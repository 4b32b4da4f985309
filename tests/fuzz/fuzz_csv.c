/*  fuzz_csv - lot_csv on any bytes, read from a memory stream

    Reads every record twice over, in step: with room for the six fields
    of a bets-file line, and with room for many.
*/
#include "fuzz.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_FIELDS    6           //  A bets-file line
#define S_ROOM      64

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size == 0)
        return -1;              //  fmemopen takes no empty buffer
    uint8_t *copy = fuzz_copy (data, size);
    lot_csv_t *narrow = fuzz_csv (copy, size);
    lot_csv_t *wide = fuzz_csv (copy, size);
    lot_span_t fields [S_FIELDS], room [S_ROOM];
    size_t lines = 1, records = 0, line = 0;
    for (size_t i = 0; i < size; i++)
        lines += data [i] == '\n';
    while (true) {
        int some = lot_csv_next (narrow, fields, S_FIELDS);
        int many = lot_csv_next (wide, room, S_ROOM);
        assert (many >= -1 && many <= S_ROOM);
        assert (some == (many > S_FIELDS ? -1 : many));
        for (int i = 0; i < some; i++)
            assert (fields [i].size == room [i].size
                &&  memcmp (fields [i].data, room [i].data, room [i].size) == 0);
        if (many == 0)
            break;
        assert (lot_csv_line (wide) == lot_csv_line (narrow));
        assert (lot_csv_line (wide) > line && lot_csv_line (wide) <= lines);
        line = lot_csv_line (wide);
        assert (++records <= lines);
    }
    assert (!lot_csv_failed (narrow) && !lot_csv_failed (wide));
    lot_csv_destroy (&narrow);
    lot_csv_destroy (&wide);
    free (copy);
    return 0;
}
