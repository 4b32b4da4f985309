/*  fuzz_draw - lot_draw's scan on any bytes, as if read from a bets file:
    scanned whole, and in two parts cut after a line end, which must find
    the same.
*/
#include "fuzz.h"
#include "lot_draw.h"

#include <assert.h>
#include <string.h>

#define S_AGENCIES 5

static void
s_check (lot_draw_t *draw, size_t lines)
{
    assert (lot_draw_bets (draw) + lot_draw_skipped (draw) <= lines);
    assert (lot_draw_winners (draw) <= lot_draw_bets (draw));
    size_t documents = 0, size, digits = 0, count;
    for (long agency = 1; agency <= S_AGENCIES; agency++) {
        const char *text = lot_draw_documents (draw, agency, &size);
        for (size_t i = 0; i < size; i++)
            if (text [i] == '\n') {
                assert (digits >= 1 && digits <= 10);
                digits = 0;
                documents++;
            }
            else {
                assert (text [i] >= '0' && text [i] <= '9');
                digits++;
            }
        assert (digits == 0);
    }
    assert (documents == lot_draw_winners (draw));
    const size_t *skipped = lot_draw_skipped_lines (draw, &count);
    for (size_t i = 1; i < count; i++)
        assert (skipped [i] > skipped [i - 1]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    size_t lines = size > 0 && data [size - 1] != '\n';
    for (size_t i = 0; i < size; i++)
        lines += data [i] == '\n';
    lot_draw_t *whole = lot_draw_new (S_AGENCIES);
    lot_draw_scan (whole, text, size);
    s_check (whole, lines);

    const char *cut = memchr (text, '\n', size / 2 + 1 < size ? size / 2 + 1 : size);
    size_t first = cut ? (size_t) (cut - text) + 1 : 0;
    lot_draw_t *parts = lot_draw_new (S_AGENCIES);
    lot_draw_scan (parts, text, first);
    lot_draw_scan (parts, text + first, size - first);
    assert (lot_draw_bets (parts) == lot_draw_bets (whole));
    assert (lot_draw_winners (parts) == lot_draw_winners (whole));
    assert (lot_draw_skipped (parts) == lot_draw_skipped (whole));
    for (long agency = 1; agency <= S_AGENCIES; agency++) {
        size_t a, b;
        const char *one = lot_draw_documents (whole, agency, &a);
        const char *two = lot_draw_documents (parts, agency, &b);
        assert (a == b && memcmp (one, two, a) == 0);
    }
    lot_draw_destroy (&whole);
    lot_draw_destroy (&parts);
    return 0;
}
