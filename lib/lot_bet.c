/*  lot_bet - a bet, its validation rules and its line in the bets file  */
#include "lot_bet.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>
#include <time.h>

//  Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
static bool
s_valid_utf8 (const unsigned char *s, size_t size)
{
    size_t i = 0;
    while (i < size) {
        unsigned char c = s [i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { extra = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { extra = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { extra = 3; cp = c & 0x07; }
        else
            return false;
        if (size - i <= extra)
            return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s [i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s [i + k] & 0x3F);
        }
        if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000)
        || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += extra + 1;
    }
    return true;
}

static bool
s_all_digits (lot_span_t text)
{
    for (size_t i = 0; i < text.size; i++)
        if (text.data [i] < '0' || text.data [i] > '9')
            return false;
    return true;
}

const char *
lot_bet_check_name (lot_span_t name)
{
    if (name.size == 0)
        return "empty";
    if (name.size > LOT_NAME_MAX)
        return "longer than 255 bytes";
    //  A control character (NUL, CR, LF, ...) has no place in a name, and
    //  would make the bets file binary or split a bet over two lines. Most
    //  names are printable ASCII, and this one pass is all they need.
    bool ascii = true;
    for (size_t i = 0; i < name.size; i++) {
        unsigned char c = (unsigned char) name.data [i];
        if (c < 0x20 || c == 0x7F)
            return "holds a control character";
        ascii &= c < 0x80;
    }
    if (ascii)
        return NULL;
    if (!s_valid_utf8 ((const unsigned char *) name.data, name.size))
        return "not valid UTF-8";
    return NULL;
}

const char *
lot_bet_check_document (lot_span_t document)
{
    if (document.size == 0 || document.size > LOT_DOCUMENT_MAX
    || !s_all_digits (document))
        return "not 1 to 10 decimal digits";
    return NULL;
}

//  Today as YYYYMMDD, local time. localtime_r costs more than the rest
//  of a bet's checks, so it runs again only when the second changes (per
//  thread: the handlers check bets at once).
static unsigned long
s_today (void)
{
    static _Thread_local time_t known = -1;
    static _Thread_local unsigned long today;
    time_t now = time (NULL);
    if (now != known) {
        struct tm local;
        localtime_r (&now, &local);
        today = (local.tm_year + 1900) * 10000UL + (local.tm_mon + 1) * 100UL
              + (unsigned long) local.tm_mday;
        known = now;
    }
    return today;
}

//  The birthdate rule, latest the last date allowed (YYYYMMDD).
static const char *
s_check_birthdate (lot_span_t date, unsigned long latest)
{
    const char *d = date.data;
    if (date.size != 10 || d [4] != '-' || d [7] != '-')
        return "not YYYY-MM-DD";
    unsigned year, month, day;
    if (lot_bet_parse_uint ((lot_span_t) { d, 4 }, 4, 9999, &year)
    ||  lot_bet_parse_uint ((lot_span_t) { d + 5, 2 }, 2, 12, &month)
    ||  lot_bet_parse_uint ((lot_span_t) { d + 8, 2 }, 2, 31, &day))
        return "not YYYY-MM-DD";
    static const unsigned days_in [] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year == 0 || month == 0 || day == 0
    || day > days_in [month - 1] + (month == 2 && leap))
        return "not a calendar date";
    if (year < LOT_BIRTH_YEAR_MIN)
        return "before 1900";
    //  Nobody bets before being born: today is the latest birthdate
    if (year * 10000UL + month * 100UL + day > latest)
        return "in the future";
    return NULL;
}

const char *
lot_bet_check_birthdate (lot_span_t date)
{
    return s_check_birthdate (date, s_today ());
}

int
lot_bet_parse_uint (lot_span_t text, size_t max_digits, unsigned max,
                    unsigned *value)
{
    if (text.size == 0 || text.size > max_digits || !s_all_digits (text))
        return -1;
    unsigned long result = 0;
    for (size_t i = 0; i < text.size; i++)
        result = result * 10 + (unsigned) (text.data [i] - '0');
    if (result > max)
        return -1;
    *value = (unsigned) result;
    return 0;
}

int
lot_bet_parse_agency (lot_span_t text, unsigned max_agency, unsigned *agency)
{
    if (text.size == 0 || text.data [0] == '0'
    ||  lot_bet_parse_uint (text, 10, max_agency, agency))
        return -1;
    return 0;
}

//  Each field's name in the agency's log lines, and the server's 'E'
//  reason for it: the answer names the field only, and its text is part
//  of the protocol (docs/protocol.md); the rule's own reason is the
//  detail the agency logs about its data file.
static const struct {
    const char *name;
    const char *invalid;
} s_fields [] = {
    [LOT_BET_FIRST_NAME] = { .name = "first_name", .invalid = "invalid first name" },
    [LOT_BET_LAST_NAME]  = { .name = "last_name",  .invalid = "invalid last name" },
    [LOT_BET_DOCUMENT]   = { .name = "document",   .invalid = "invalid document" },
    [LOT_BET_BIRTHDATE]  = { .name = "birthdate",  .invalid = "invalid birthdate" },
    [LOT_BET_NUMBER]     = { .name = "number",     .invalid = "invalid number" },
};

static const char *
s_check_fields (lot_bet_t *bet, const lot_span_t fields [5], lot_bet_field_t *field,
                unsigned long latest)
{
    const char *reasons [] = {
        [LOT_BET_FIRST_NAME] = lot_bet_check_name (fields [LOT_BET_FIRST_NAME]),
        [LOT_BET_LAST_NAME]  = lot_bet_check_name (fields [LOT_BET_LAST_NAME]),
        [LOT_BET_DOCUMENT]   = lot_bet_check_document (fields [LOT_BET_DOCUMENT]),
        [LOT_BET_BIRTHDATE]  = s_check_birthdate (fields [LOT_BET_BIRTHDATE], latest),
        [LOT_BET_NUMBER]     = lot_bet_parse_uint (fields [LOT_BET_NUMBER], 10,
                                                   LOT_NUMBER_MAX, &bet->number)
                             ? "not a number from 0 to 9999" : NULL
    };
    for (lot_bet_field_t i = LOT_BET_FIRST_NAME; i <= LOT_BET_NUMBER; i++)
        if (reasons [i]) {
            *field = i;
            return reasons [i];
        }
    bet->first_name = fields [LOT_BET_FIRST_NAME];
    bet->last_name = fields [LOT_BET_LAST_NAME];
    bet->document = fields [LOT_BET_DOCUMENT];
    bet->birthdate = fields [LOT_BET_BIRTHDATE];
    return NULL;
}

const char *
lot_bet_check_fields (lot_bet_t *bet, const lot_span_t fields [5],
                      lot_bet_field_t *field)
{
    return s_check_fields (bet, fields, field, s_today ());
}

const char *
lot_bet_field_name (lot_bet_field_t field)
{
    assert (field >= LOT_BET_FIRST_NAME && field <= LOT_BET_NUMBER);
    return s_fields [field].name;
}

static const char *
s_from_fields (lot_bet_t *bet, const lot_span_t fields [6], unsigned max_agency,
               unsigned long latest)
{
    if (lot_bet_parse_agency (fields [0], max_agency, &bet->agency))
        return "unknown agency";
    lot_bet_field_t field;
    if (s_check_fields (bet, fields + 1, &field, latest))
        return s_fields [field].invalid;
    return NULL;
}

const char *
lot_bet_from_fields (lot_bet_t *bet, const lot_span_t fields [6],
                     unsigned max_agency)
{
    return s_from_fields (bet, fields, max_agency, s_today ());
}

const char *
lot_bet_from_stored_fields (lot_bet_t *bet, const lot_span_t fields [6],
                            unsigned max_agency)
{
    return s_from_fields (bet, fields, max_agency, ULONG_MAX);
}

//  The characters that make a field quoted: a comma, a quote, a line break
static const bool s_quoted [256] = { [','] = true, ['"'] = true, ['\n'] = true, ['\r'] = true };

//  Appends one CSV field, quoted only when it holds a comma, a quote or a
//  line break. Returns the new position, or NULL when out of room.
static char *
s_put_field (char *out, const char *limit, lot_span_t field)
{
    //  One pass, not a memchr per character: four of them per field were
    //  the handlers' largest cost (perf, 1,000 agencies)
    size_t plain = 0;
    while (plain < field.size && !s_quoted [(unsigned char) field.data [plain]])
        plain++;
    if (plain == field.size) {
        if ((size_t) (limit - out) < field.size)
            return NULL;
        memcpy (out, field.data, field.size);
        return out + field.size;
    }
    if (limit - out < 2)
        return NULL;
    *out++ = '"';
    for (size_t i = 0; i < field.size; i++) {
        if (limit - out < 3)
            return NULL;
        if (field.data [i] == '"')
            *out++ = '"';
        *out++ = field.data [i];
    }
    *out++ = '"';
    return out;
}

static char *
s_put_uint (char *out, const char *limit, unsigned value)
{
    char digits [12];
    size_t size = 0;
    do {
        digits [size++] = (char) ('0' + value % 10);
        value /= 10;
    } while (value);
    if ((size_t) (limit - out) < size)
        return NULL;
    while (size)
        *out++ = digits [--size];
    return out;
}

static char *
s_put_char (char *out, const char *limit, char c)
{
    if (!out || out == limit)
        return NULL;
    *out = c;
    return out + 1;
}

size_t
lot_bet_format_csv (const lot_bet_t *bet, char *out, size_t capacity)
{
    const char *limit = out + capacity;
    char *p = s_put_uint (out, limit, bet->agency);
    const lot_span_t *text [] = {
        &bet->first_name, &bet->last_name, &bet->document, &bet->birthdate
    };
    for (size_t i = 0; p && i < 4; i++) {
        p = s_put_char (p, limit, ',');
        p = p ? s_put_field (p, limit, *text [i]) : NULL;
    }
    p = s_put_char (p, limit, ',');
    p = p ? s_put_uint (p, limit, bet->number) : NULL;
    p = s_put_char (p, limit, '\r');
    p = s_put_char (p, limit, '\n');
    return p ? (size_t) (p - out) : 0;
}
