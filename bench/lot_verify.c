/*  lot_verify - after a run, the bets file line by line against the
    agencies' input files, and each agency's winners against its input

    The input files are read again beside the bets file, one open reader
    per agency, so memory stays that of one line per agency.
*/
#include "lot_verify.h"
#include "lot_fail.h"
#include "lot_feed.h"
#include "lot_bet.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char name [12];                 //  The id in decimal, as in the bets file
    lot_feed_file_t *input;         //  Read again while checking
    zlistx_t *got;                  //  The documents the server named
    zlistx_t *expected;             //  Those the input names
} s_agency_t;

struct _lot_verify_t {
    const char *data_dir;
    unsigned agencies;
    s_agency_t *agency;             //  Agency n at [n - 1]
};

static zlistx_t *
s_documents_new (void)
{
    zlistx_t *self = zlistx_new ();
    assert (self);
    zlistx_set_destructor (self, (czmq_destructor *) zstr_free);
    zlistx_set_comparator (self, (czmq_comparator *) strcmp);
    return self;
}

lot_verify_t *
lot_verify_new (const char *data_dir, unsigned agencies)
{
    lot_verify_t *self = calloc (1, sizeof *self);
    assert (self);
    self->data_dir = data_dir;
    self->agencies = agencies;
    self->agency = calloc (agencies, sizeof *self->agency);
    assert (self->agency);
    for (unsigned i = 0; i < agencies; i++) {
        snprintf (self->agency [i].name, sizeof self->agency [i].name, "%u", i + 1);
        self->agency [i].got = s_documents_new ();
        self->agency [i].expected = s_documents_new ();
    }
    return self;
}

void
lot_verify_destroy (lot_verify_t **self_p)
{
    if (*self_p) {
        lot_verify_t *self = *self_p;
        for (unsigned i = 0; i < self->agencies; i++) {
            lot_feed_file_destroy (&self->agency [i].input);
            zlistx_destroy (&self->agency [i].got);
            zlistx_destroy (&self->agency [i].expected);
        }
        free (self->agency);
        free (self);
        *self_p = NULL;
    }
}

void
lot_verify_winner (lot_verify_t *self, unsigned agency, const char *document, size_t size)
{
    assert (agency >= 1 && agency <= self->agencies);
    char *copy = strndup (document, size);
    assert (copy);
    zlistx_add_end (self->agency [agency - 1].got, copy);
}

//  Formats the agency's next input bet as its bets-file line, and notes
//  it when it plays the winning number. Returns the line's size, 0 when
//  the input has no more bets, or -1.
static int
s_next_line (lot_verify_t *self, unsigned id, char *line, size_t capacity)
{
    s_agency_t *agency = &self->agency [id - 1];
    lot_span_t fields [1 + LOT_BET_FIELDS] = {
        { .data = agency->name, .size = strlen (agency->name) }
    };
    int rc = lot_feed_file_next (agency->input, fields + 1);
    if (rc <= 0)
        return rc ? lot_fail (id, "%s: read again, it failed",
                              lot_feed_file_path (agency->input)) : 0;
    lot_bet_t bet;
    const char *reason = lot_bet_from_fields (&bet, fields, self->agencies);
    size_t size = reason ? 0 : lot_bet_format_csv (&bet, line, capacity);
    if (size == 0)
        return lot_fail (id, "%s: bet %zu cannot be formatted",
                         lot_feed_file_path (agency->input),
                         lot_feed_file_bets (agency->input));
    if (bet.number == LOT_WINNING_NUMBER) {
        char *document = strndup (bet.document.data, bet.document.size);
        assert (document);
        zlistx_add_end (agency->expected, document);
    }
    return (int) size;
}

//  One line of the bets file: the next bet of the agency it names.
static int
s_check_line (lot_verify_t *self, const char *line, size_t size, size_t number)
{
    const char *comma = memchr (line, ',', size);
    unsigned id;
    lot_span_t named = { .data = line, .size = comma ? (size_t) (comma - line) : 0 };
    if (!comma || lot_bet_parse_agency (named, self->agencies, &id))
        return lot_fail (0, "bets file line %zu names no agency 1..%u", number,
                         self->agencies);
    char expected [LOT_BET_CSV_MAX];
    int want = s_next_line (self, id, expected, sizeof expected);
    lot_feed_file_t *input = self->agency [id - 1].input;
    if (want == 0)
        return lot_fail (id, "bets file line %zu: more bets than the %zu of its input",
                         number, lot_feed_file_bets (input));
    if (want > 0 && (want != (int) size || memcmp (line, expected, size)))
        return lot_fail (id, "bets file line %zu is not its bet %zu: \"%.*s\", expected"
                         " \"%.*s\"", number, lot_feed_file_bets (input), (int) size - 2,
                         line, want - 2, expected);
    return want < 0 ? -1 : 0;
}

//  After the bets file: no agency has input bets left.
static int
s_check_all_stored (lot_verify_t *self)
{
    char expected [LOT_BET_CSV_MAX];
    for (unsigned id = 1; id <= self->agencies; id++) {
        size_t stored = lot_feed_file_bets (self->agency [id - 1].input);
        int more = s_next_line (self, id, expected, sizeof expected);
        while (more > 0)
            more = s_next_line (self, id, expected, sizeof expected);
        if (more < 0)
            return -1;
        size_t total = lot_feed_file_bets (self->agency [id - 1].input);
        if (total > stored)
            return lot_fail (id, "the bets file holds %zu of its %zu bets", stored, total);
    }
    return 0;
}

static int
s_check_bets (lot_verify_t *self, const char *bets_file)
{
    for (unsigned i = 0; i < self->agencies; i++) {
        char *path = zsys_sprintf ("%s/agency-%u.csv", self->data_dir, i + 1);
        self->agency [i].input = lot_feed_file_new (path);
        int rc = self->agency [i].input ? 0 : lot_fail (0, "%s: %s", path, strerror (errno));
        zstr_free (&path);
        if (rc)
            return rc;
    }
    FILE *file = fopen (bets_file, "rb");
    if (!file)
        return lot_fail (0, "%s: %s", bets_file, strerror (errno));
    char *line = NULL;
    size_t capacity = 0, number = 0;
    ssize_t size;
    int rc = 0;
    while (rc == 0 && (size = getline (&line, &capacity, file)) > 0)
        rc = s_check_line (self, line, (size_t) size, ++number);
    if (rc == 0 && ferror (file))
        rc = lot_fail (0, "%s: read error", bets_file);
    free (line);
    fclose (file);
    return rc ? rc : s_check_all_stored (self);
}

static int
s_check_winners (lot_verify_t *self)
{
    for (unsigned i = 0; i < self->agencies; i++) {
        s_agency_t *agency = &self->agency [i];
        zlistx_sort (agency->got);
        zlistx_sort (agency->expected);
        const char *got = zlistx_first (agency->got);
        const char *expected = zlistx_first (agency->expected);
        while (got && expected && streq (got, expected)) {
            got = zlistx_next (agency->got);
            expected = zlistx_next (agency->expected);
        }
        if (got || expected)
            return lot_fail (i + 1, "winners: %zu documents, expected %zu; first"
                             " difference: %s where %s was expected",
                             zlistx_size (agency->got), zlistx_size (agency->expected),
                             got ? got : "none", expected ? expected : "none");
    }
    return 0;
}

int
lot_verify_check (lot_verify_t *self, const char *bets_file)
{
    int rc = s_check_bets (self, bets_file);
    for (unsigned i = 0; i < self->agencies; i++)
        lot_feed_file_destroy (&self->agency [i].input);
    return rc ? rc : s_check_winners (self);
}
