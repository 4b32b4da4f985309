/*  lot_recovery - opens a store's two files and cuts them back to what is durable

    The rules (which records are valid, why the last group's lines are
    checked, why both files are synced even when nothing is cut) are the
    store's: lot_store.h describes them; lot_journal.h, the journal's lines.
*/
#ifndef LOT_RECOVERY_H_INCLUDED
#define LOT_RECOVERY_H_INCLUDED

#include <stdbool.h>
#include <stdint.h>

//  What recovery leaves to the store
typedef struct {
    int bets_fd;                    //  Open for appending, both; -1 when not
    int journal_fd;
    int same_fs;                    //  As lot_file_sync_pair keeps it
    uint64_t bets_size;             //  Where each file ends once cut back
    uint64_t journal_size;
    uint64_t group;                 //  Number of the last group written
} lot_recovery_t;

//  Where the lines of a record of agency (1..agencies) lie in the bets
//  file: size bytes from offset. Called for each valid record, in order.
typedef void (lot_recovery_lines_fn) (void *arg, uint32_t agency, uint64_t offset,
                                      uint64_t size);

//  Opens (creating when absent) the bets file and the journal, cuts a
//  torn tail in either back so both agree (logging each cut), adopts the
//  whole bet lines past the last record (a commit does not sync the
//  journal: their records may be lost) with records of their own, and
//  fills stored and finished (arrays of agencies + 1, zeroed) by agency
//  from the journal, and tells lines (NULL: nothing) where each record's
//  lines lie. fsync false skips every sync. Returns 0, or -1 with *error (a heap
//  string the caller frees; error may be NULL) as lot_store_new does.
//  Either way *files holds the descriptors opened, which the caller
//  closes.
int lot_recovery_open (lot_recovery_t *files, const char *bets_path,
                       const char *journal_path, long agencies, bool fsync,
                       uint32_t *stored, bool *finished, lot_recovery_lines_fn *lines,
                       void *arg, char **error);

#endif
