/*  fuzz_journal - the journal's line parsers on any bytes: the journal is
    read back after a crash from whatever the disk held. A line has one
    form only (lot_journal.h).
*/
#include "fuzz.h"
#include "lot_journal.h"

#include <assert.h>
#include <string.h>

static void
s_check (const char *line, size_t size)
{
    uint64_t base;
    lot_journal_record_t record;
    bool header = lot_journal_header_parse (line, size, &base) == 0;
    bool parsed = lot_journal_record_parse (line, size, &record) == 0;
    assert (!(header && parsed));
    char out [LOT_JOURNAL_RECORD_MAX > LOT_JOURNAL_HEADER_MAX
              ? LOT_JOURNAL_RECORD_MAX : LOT_JOURNAL_HEADER_MAX];
    if (header || parsed) {
        size_t length = header ? lot_journal_header_format (base, out)
                               : lot_journal_record_format (&record, out);
        assert (length == size + 1 && out [size] == '\n' && memcmp (out, line, size) == 0);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    s_check ((const char *) data, size);
    //  Random bytes seldom carry their own CRC: again with it made right,
    //  so that the fields behind it are parsed too
    if (size >= 9 && size <= LOT_JOURNAL_RECORD_MAX) {
        char line [LOT_JOURNAL_RECORD_MAX + 1];
        memcpy (line, data, size);
        snprintf (line + size - 9, 10, " %08x", (unsigned) lot_journal_crc (line, size - 9));
        s_check (line, size);
    }
    return 0;
}
