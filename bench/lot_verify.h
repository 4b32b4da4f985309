/*  lot_verify - after a run, the bets file line by line against the
    agencies' input files, and each agency's winners against its input  */
#ifndef LOT_VERIFY_H_INCLUDED
#define LOT_VERIFY_H_INCLUDED

#include <stddef.h>

typedef struct _lot_verify_t lot_verify_t;

//  Agency n's input is DATA_DIR/agency-n.csv, n in 1..AGENCIES.
lot_verify_t *
    lot_verify_new (const char *data_dir, unsigned agencies);

void
    lot_verify_destroy (lot_verify_t **self_p);

//  The server named DOCUMENT a winner of agency AGENCY (1..).
void
    lot_verify_winner (lot_verify_t *self, unsigned agency, const char *document,
                       size_t size);

//  Each agency's lines of BETS_FILE, in file order, are exactly its
//  input's bets in input order, and the winners the server named are
//  those of its input that play the winning number (as multisets).
//  Returns 0, or -1 (said) at the first difference.
int
    lot_verify_check (lot_verify_t *self, const char *bets_file);

#endif
