/*  lot_bet - a bet, its validation rules and its line in the bets file

    A bet is agency, first name, last name, document, birthdate and number.
    Its text fields are views (pointer and length) into a buffer owned by
    the caller: decoding a chunk or reading a CSV record copies nothing.
*/
#ifndef LOT_BET_H_INCLUDED
#define LOT_BET_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

#define LOT_WINNING_NUMBER  7574
#define LOT_NAME_MAX        255     //  Bytes in a first or last name
#define LOT_DOCUMENT_MAX    10      //  Digits in a document
#define LOT_NUMBER_MAX      9999
#define LOT_BIRTH_YEAR_MIN  1900    //  No bettor alive was born before
//  Longest bets-file line a bet can make: two names fully quoted with
//  every byte a doubled quote, the other fields, five commas and CRLF.
#define LOT_BET_CSV_MAX     (2 * (2 * LOT_NAME_MAX + 2) + LOT_DOCUMENT_MAX + 10 + 4 + 5 + 2 + 10)

typedef struct {
    const char *data;
    size_t size;
} lot_span_t;

typedef struct {
    unsigned agency;
    lot_span_t first_name;
    lot_span_t last_name;
    lot_span_t document;
    lot_span_t birthdate;
    unsigned number;
} lot_bet_t;

//  Each check returns NULL when the field is valid, else a short reason.
//  A name is 1 to 255 bytes of UTF-8 with no control character (C0 or
//  DEL); a document 1 to 10 digits; a birthdate a real YYYY-MM-DD date
//  from 1900-01-01 to today (local time).
const char *lot_bet_check_name (lot_span_t name);
const char *lot_bet_check_document (lot_span_t document);
const char *lot_bet_check_birthdate (lot_span_t birthdate);

//  A bet's five fields, in their order on the wire and in a data file.
typedef enum {
    LOT_BET_FIRST_NAME,
    LOT_BET_LAST_NAME,
    LOT_BET_DOCUMENT,
    LOT_BET_BIRTHDATE,
    LOT_BET_NUMBER
} lot_bet_field_t;

//  The rules of a bet, the one place both the server and the agency
//  client check them: each field by the checks above, and the number
//  decimal 0..9999 (up to 10 digits: leading zeros are accepted). Returns
//  NULL when all five are valid, and fills bet's text fields and number
//  (not its agency); else the reason of the first rule that fails, with
//  *field set to its field.
const char *lot_bet_check_fields (lot_bet_t *bet, const lot_span_t fields [5],
                                  lot_bet_field_t *field);

//  A field's name in log lines: "first_name", "last_name", "document",
//  "birthdate", "number".
const char *lot_bet_field_name (lot_bet_field_t field);

//  Parses an unsigned decimal of 1..max_digits digits (leading zeros
//  allowed) no greater than max. Returns 0 and sets *value, or -1.
int lot_bet_parse_uint (lot_span_t text, size_t max_digits, unsigned max,
                        unsigned *value);

//  Parses an agency id: canonical decimal (no sign, no leading zero) from
//  1 to max_agency, so that no two spellings name one agency. Returns 0
//  and sets *agency, or -1.
int lot_bet_parse_agency (lot_span_t text, unsigned max_agency, unsigned *agency);

//  Fills *bet from its six text fields, in bets-file order (agency first),
//  checking every field (lot_bet_check_fields); agencies run from 1 to
//  max_agency. Returns NULL when valid, else the server's reason, which
//  names the field only ("invalid birthdate"): it goes on the wire.
const char *lot_bet_from_fields (lot_bet_t *bet, const lot_span_t fields [6],
                                 unsigned max_agency);

//  The same for a line read back from the bets file, where each bet was
//  checked when it was stored: every rule but the clock's (a birthdate
//  after today passes: the clock may have been set back since).
const char *lot_bet_from_stored_fields (lot_bet_t *bet, const lot_span_t fields [6],
                                        unsigned max_agency);

//  Writes the bet's bets-file line (CSV with minimal quoting, CRLF) to out.
//  Returns the bytes written, or 0 when it does not fit in capacity.
size_t lot_bet_format_csv (const lot_bet_t *bet, char *out, size_t capacity);

#endif
