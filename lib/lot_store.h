/*  lot_store - the bets file and its journal: which chunks are stored

    The store appends chunks' lines to the bets file and, for each chunk, a
    record to a journal beside it, so that after a crash (SIGKILL or power
    loss) it knows exactly which chunks are stored and which agencies have
    finished, and a chunk sent again is never stored twice.

    A chunk is named by (agency, position): position is how many bets of
    its agency come before it in the upload. Each agency's chunks are
    stored contiguously, so per agency the store keeps `stored` (bets
    stored, also the next position expected) and `finished` (its last
    chunk is stored).

    The bets file holds only the course's CSV lines. The journal is text:
    a header naming the bets-file size BASE it starts from, then one
    record per stored chunk, each line with its CRC (lot_journal.h
    describes them). The journal is created whole (written to PATH.tmp,
    synced, renamed), so it never holds half a header.

    A commit writes the lines of the group with one writev, then its
    records, then makes the bets file durable (fdatasync): a group's lines
    are durable before the next one is written, its records maybe not.
    A group that holds an agency's last chunk makes both files durable
    (one syncfs when they share a filesystem, else an fdatasync each), so
    that a finished agency never depends on the rebuild below; so does
    every LOT_STORE_JOURNAL_SYNC_GROUPS-th group, so that the rebuild is
    bounded.

    At open, the valid records are the longest prefix whose records
    parse, match their CRC, end between the previous END and the bets
    file's size and end with a newline; then the lines of every record of the last group
    are checked against LINES_CRC, and the first mismatch ends the prefix
    (a power cut may persist any subset of a group's pages). The journal
    is cut back to that prefix. Past its last END, the bets file may hold
    lines confirmed whose records a power cut lost: each whole line that
    is a bet exactly as a commit writes it, of an agency in 1..agencies
    not finished, is adopted, up to the first that is not (a torn or
    zeroed tail, never confirmed), where the bets file is cut. Every rule
    of a bet holds but the clock's (lot_bet_from_stored_fields). A bet of
    an agency above AGENCIES there (a run with more agencies confirmed it)
    is never cut: the store does not open, and says so. The lines
    adopted get records of their own in one new group, one per run of
    one agency's lines (POSITION its stored count, LAST 0). Both files
    are synced (so the next group is written after the last one is
    durable, even when a killed process never synced it), and the state
    is rebuilt from the journal (lot_recovery.h).

    One thread: the store is not shared.
*/
#ifndef LOT_STORE_H_INCLUDED
#define LOT_STORE_H_INCLUDED

#include "lot_digest.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _lot_store_t lot_store_t;

typedef struct {
    uint32_t agency;        //  1 .. agencies
    uint32_t position;      //  Bets of this agency before this chunk
    uint32_t count;         //  Bets in it (0 allowed)
    bool last;              //  The agency's last chunk
    const void *lines;      //  Its bets-file lines (CSV, CRLF), count of them
    size_t size;
} lot_store_chunk_t;

typedef enum {
    LOT_STORE_APPEND,       //  New: joins the pending group, written by commit
    LOT_STORE_STORED,       //  Already durable: answer it as stored, write nothing
    LOT_STORE_REPEAT,       //  A copy of a chunk pending in this group: shares its fate
    LOT_STORE_EARLY,        //  Past what is stored: the bets before it are
                            //  missing (*reason says so); it may come again
    LOT_STORE_REJECT        //  *reason says why
} lot_store_verdict_t;

//  Opens (creating when absent) the bets file and the journal, and
//  recovers: a torn tail in either is cut back so both agree (each cut is
//  logged), then each agency's state is rebuilt from the journal.
//  agencies is the highest agency id. fsync false skips fdatasync (tests,
//  benchmarks). Returns NULL with *error (a heap string the caller frees;
//  error may be NULL) when a file cannot be opened, read, written or cut,
//  when the journal's header is unreadable or names a base beyond the
//  bets file, or when a record contradicts the ones before it: the
//  operator must look, nothing is discarded.
lot_store_t *lot_store_new (const char *bets_path, const char *journal_path,
                            long agencies, bool fsync, char **error);

//  Syncs (when fsync) and closes both files. A pending group is dropped,
//  not written.
void lot_store_destroy (lot_store_t **self_p);

//  fdatasyncs both files, even when fsync is false: a clean shutdown can
//  make what it wrote durable. Returns 0 or -1 (errno set).
int lot_store_sync (lot_store_t *self);

//  Bets of the agency stored durably (pending chunks not counted); 0 for
//  an agency outside 1..agencies.
uint32_t lot_store_stored (lot_store_t *self, uint32_t agency);

//  True when the agency's last chunk is stored durably.
bool lot_store_finished (lot_store_t *self, uint32_t agency);

//  The digest of the agency's durable lines, in position order
//  (lot_digest.h), into out. The lines stored since the last call are
//  read back from the bets file and hashed now, not at each commit (nor
//  at recovery: the journal says where they lie). Returns 0 (out all
//  zero for an agency outside 1..agencies), or -1 (errno set) when the
//  bets file cannot be read: what was hashed stays, and the next call
//  goes on from there.
int lot_store_digest (lot_store_t *self, uint32_t agency, uint8_t out [LOT_DIGEST_SIZE]);

//  Decides what becomes of a chunk given the durable state and the chunks
//  already pending. S and F are the agency's durable stored and finished,
//  S' and F' the same counting pending chunks; p is the chunk's position
//  and c its count:
//    1. agency outside 1..agencies: REJECT "unknown agency"
//    2. p == S' and not F': APPEND (S' += c, F' = last)
//    A. p < S < p + c, or p + c == S with the chunk last and not F (its
//       first bets were stored, as recovery adopts lines, not chunks):
//       when S' == S and not F', APPEND its bets from S on (a chunk is
//       the same bytes each time it is sent, so its first S - p lines are
//       those stored: only the rest is written); else REPEAT when
//       p + c <= S'; else on to 5.
//    3. p + c <= S and (p < S or F): STORED
//    4. p + c <= S': REPEAT
//    5. F': REJECT "agency already finished"
//    6. p > S': EARLY "chunk out of order"
//    7. else REJECT "chunk overlaps stored bets" (it overlaps pending ones)
//  *reason (reason may be NULL) is NULL unless the verdict is EARLY or
//  REJECT. EARLY changes nothing: the caller may hold the chunk and offer
//  it again once the bets before it are stored (several handlers can
//  deliver one agency's chunks out of order), or reject it. An
//  APPEND copies the chunk's fields but not its lines: the caller keeps
//  them alive until commit.
lot_store_verdict_t lot_store_admit (lot_store_t *self, const lot_store_chunk_t *chunk,
                                     const char **reason);

//  Chunks admitted since the last commit.
size_t lot_store_pending (lot_store_t *self);

//  What the last commit wrote and how long it took, and where both files
//  end: what an operator watches (lot_store_metrics).
typedef struct {
    uint64_t group;             //  The last group's number (the journal's)
    uint32_t chunks;            //  Chunks in it
    uint64_t bets;              //  Bets in it
    int64_t write_ns;           //  Both files written, in nanoseconds
    int64_t sync_ns;            //  Made durable (the bets file; both when
                                //  an agency finished)
    uint64_t bets_size;         //  Bytes, durable
    uint64_t journal_size;      //  Bytes, written
} lot_store_stats_t;

void lot_store_stats (lot_store_t *self, lot_store_stats_t *stats);

//  A commit makes the journal durable with the bets file at least every
//  this many groups (and with any group that finishes an agency): after
//  a power cut, recovery adopts at most that many groups' lines.
#define LOT_STORE_JOURNAL_SYNC_GROUPS 64

//  Writes the pending group: its lines to the bets file, one journal
//  record per chunk, then fdatasync the bets file (both files when the
//  group holds a last chunk), and only then updates the state. Returns NULL (also for an empty group), or a reason ("bets file
//  device full" on ENOSPC, else "bets file write failed") after cutting
//  both files back to where they were: state and files are as before.
//  The pending group is dropped either way. Once files cannot be cut back,
//  every later commit fails: reopen the store to recover.
const char *lot_store_commit (lot_store_t *self);

#endif
