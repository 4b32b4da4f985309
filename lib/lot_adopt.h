/*  lot_adopt - the bets file's lines past its journal's last record, taken back

    A commit syncs the journal only now and then (lot_store.h), so after a
    power cut the bets file may hold confirmed lines whose records were
    lost. Each whole line past the last record that is a bet exactly as a
    commit writes it (lot_bet_from_stored_fields: every rule but the
    clock's), of an agency in 1..agencies not finished, is adopted, up to
    the first line that is not one: a torn or zeroed tail, never
    confirmed, which the caller cuts.
*/
#ifndef LOT_ADOPT_H_INCLUDED
#define LOT_ADOPT_H_INCLUDED

#include "lot_recovery.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int bets_fd;
    const char *bets_path;          //  For errors
    uint64_t from;                  //  Where the last record's lines end
    uint64_t size;                  //  The bets file's
    long agencies;
    uint64_t group;                 //  The new records' group number
    uint32_t *stored;               //  By agency: grows by the lines adopted
    const bool *finished;
    lot_recovery_lines_fn *lines;   //  Told where each run of lines lies
    void *arg;
} lot_adopt_t;

//  Reads the tail and adopts its lines: one journal record per run of one
//  agency's lines (POSITION its stored count, LAST 0) goes to *records (a
//  heap buffer of *records_size bytes, NULL when none: the caller appends
//  it to the journal and frees it), and *to is where the last line
//  adopted ends. Returns the lines adopted, or -1 with *error (a heap
//  string; error may be NULL): the tail could not be read or checked, or
//  it holds a bet of an agency above agencies (a run with more agencies
//  confirmed it: never cut).
int64_t lot_adopt (const lot_adopt_t *tail, uint64_t *to, char **records,
                   size_t *records_size, char **error);

#endif
