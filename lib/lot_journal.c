/*  lot_journal - the journal's lines, formatted and parsed with their CRCs, no I/O  */
#include "lot_journal.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define HEADER_TAG  "lottery-journal 1 base "
#define CRC_FIELD   9               //  " " and 8 hex digits end every line

uint32_t
lot_journal_crc (const void *data, size_t size)
{
    return (uint32_t) crc32 (0, data, (uInt) size);
}

size_t
lot_journal_header_format (uint64_t base, char *out)
{
    int body = snprintf (out, LOT_JOURNAL_HEADER_MAX, HEADER_TAG "%" PRIu64, base);
    int size = snprintf (out + body, LOT_JOURNAL_HEADER_MAX - (size_t) body,
                         " %08" PRIx32 "\n", lot_journal_crc (out, (size_t) body));
    assert (body > 0 && (size_t) body + (size_t) size < LOT_JOURNAL_HEADER_MAX);
    return (size_t) body + (size_t) size;
}

size_t
lot_journal_record_format (const lot_journal_record_t *record, char *out)
{
    int body = snprintf (out, LOT_JOURNAL_RECORD_MAX, "%" PRIu32 " %" PRIu32 " %" PRIu32
                         " %d %" PRIu64 " %" PRIu64 " %08" PRIx32, record->agency,
                         record->position, record->count, record->last ? 1 : 0,
                         record->group, record->end, record->lines_crc);
    int size = snprintf (out + body, LOT_JOURNAL_RECORD_MAX - (size_t) body,
                         " %08" PRIx32 "\n", lot_journal_crc (out, (size_t) body));
    assert (body > 0 && (size_t) body + (size_t) size < LOT_JOURNAL_RECORD_MAX);
    return (size_t) body + (size_t) size;
}

//  A cursor over a line's fields, each followed by one space but the last
typedef struct {
    const char *at;
    const char *end;
} s_cursor_t;

static int
s_take_separator (s_cursor_t *cursor)
{
    if (cursor->at == cursor->end)
        return 0;
    if (*cursor->at != ' ' || cursor->at + 1 == cursor->end)
        return -1;
    cursor->at++;
    return 0;
}

//  A decimal without leading zeros, no greater than max
static int
s_take_number (s_cursor_t *cursor, uint64_t max, uint64_t *value)
{
    const char *start = cursor->at;
    *value = 0;
    while (cursor->at < cursor->end && *cursor->at >= '0' && *cursor->at <= '9') {
        unsigned digit = (unsigned) (*cursor->at++ - '0');
        if (digit > max || *value > (max - digit) / 10)
            return -1;
        *value = *value * 10 + digit;
    }
    size_t digits = (size_t) (cursor->at - start);
    if (digits == 0 || (digits > 1 && *start == '0'))
        return -1;
    return s_take_separator (cursor);
}

static int
s_take_hex (s_cursor_t *cursor, uint32_t *value)
{
    if (cursor->end - cursor->at < 8)
        return -1;
    *value = 0;
    for (int i = 0; i < 8; i++) {
        char c = *cursor->at++;
        unsigned digit = c >= '0' && c <= '9' ? (unsigned) (c - '0')
                       : c >= 'a' && c <= 'f' ? (unsigned) (c - 'a' + 10) : 16;
        if (digit == 16)
            return -1;
        *value = *value << 4 | digit;
    }
    return s_take_separator (cursor);
}

//  Checks the CRC that ends a line (without its newline); returns a
//  cursor over the text before it, or one with at == NULL.
static s_cursor_t
s_line_body (const char *line, size_t size)
{
    s_cursor_t cursor = { NULL, NULL };
    if (size <= CRC_FIELD || line [size - CRC_FIELD] != ' ')
        return cursor;
    s_cursor_t tail = { line + size - CRC_FIELD + 1, line + size };
    uint32_t crc;
    if (s_take_hex (&tail, &crc) || tail.at != tail.end
    ||  crc != lot_journal_crc (line, size - CRC_FIELD))
        return cursor;
    return (s_cursor_t) { line, line + size - CRC_FIELD };
}

int
lot_journal_header_parse (const char *line, size_t size, uint64_t *base)
{
    s_cursor_t cursor = s_line_body (line, size);
    size_t tag = strlen (HEADER_TAG);
    if (!cursor.at || (size_t) (cursor.end - cursor.at) <= tag
    ||  memcmp (cursor.at, HEADER_TAG, tag))
        return -1;
    cursor.at += tag;
    return s_take_number (&cursor, INT64_MAX, base) || cursor.at != cursor.end ? -1 : 0;
}

int
lot_journal_record_parse (const char *line, size_t size, lot_journal_record_t *record)
{
    s_cursor_t cursor = s_line_body (line, size);
    uint64_t agency, position, count, last;
    if (!cursor.at
    ||  s_take_number (&cursor, UINT32_MAX, &agency) || agency == 0
    ||  s_take_number (&cursor, UINT32_MAX, &position)
    ||  s_take_number (&cursor, UINT32_MAX, &count)
    ||  s_take_number (&cursor, 1, &last)
    ||  s_take_number (&cursor, INT64_MAX, &record->group) || record->group == 0
    ||  s_take_number (&cursor, INT64_MAX, &record->end)
    ||  s_take_hex (&cursor, &record->lines_crc)
    ||  cursor.at != cursor.end)
        return -1;
    record->agency = (uint32_t) agency;
    record->position = (uint32_t) position;
    record->count = (uint32_t) count;
    record->last = last == 1;
    return 0;
}
