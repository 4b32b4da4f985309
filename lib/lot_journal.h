/*  lot_journal - the journal's lines, formatted and parsed with their CRCs, no I/O

    The journal of the bets file (lot_store.h) is text, one line each,
    fields split by one space, numbers in decimal (no leading zeros),
    checksums as 8 lowercase hex digits (zlib's CRC-32):

        lottery-journal 1 base BASE HCRC
        AGENCY POSITION COUNT LAST GROUP END LINES_CRC CRC

    The header names the bets-file size the journal starts from: lines
    before BASE (a file written before any journal existed) count for the
    draw but for no agency. Then one record per stored chunk: LAST is 0
    or 1, GROUP the number of the commit that wrote it (1, 2, ...), END
    the offset in the bets file where its lines end (they start at the
    previous record's END, or at BASE), LINES_CRC the CRC of those lines;
    HCRC and CRC are the CRC of their line's text before the space that
    precedes them.

    A line is written in one form only, so parsing and formatting it
    again gives back its bytes.
*/
#ifndef LOT_JOURNAL_H_INCLUDED
#define LOT_JOURNAL_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOT_JOURNAL_HEADER_MAX  64      //  Longest header line, newline included
#define LOT_JOURNAL_RECORD_MAX  112     //  Longest record line, newline included

//  One record's fields
typedef struct {
    uint32_t agency;                //  1 ..
    uint32_t position;
    uint32_t count;
    bool last;
    uint64_t group;                 //  1 .., at most INT64_MAX
    uint64_t end;                   //  At most INT64_MAX
    uint32_t lines_crc;
} lot_journal_record_t;

//  The journal's checksum (zlib's CRC-32) of size bytes.
uint32_t lot_journal_crc (const void *data, size_t size);

//  Writes the header line that starts from base, newline included, into
//  out (LOT_JOURNAL_HEADER_MAX bytes); returns its size.
size_t lot_journal_header_format (uint64_t base, char *out);

//  Parses a header line of size bytes, without its newline. Returns 0
//  and sets *base, or -1 when it is not one (its CRC included).
int lot_journal_header_parse (const char *line, size_t size, uint64_t *base);

//  Writes a record's line, newline included, into out
//  (LOT_JOURNAL_RECORD_MAX bytes); returns its size.
size_t lot_journal_record_format (const lot_journal_record_t *record, char *out);

//  Parses a record line of size bytes, without its newline. Returns 0
//  and fills *record, or -1 when it is not one (its CRC included).
int lot_journal_record_parse (const char *line, size_t size,
                              lot_journal_record_t *record);

#endif
