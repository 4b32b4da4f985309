/*  lot_procstat - what a set of processes spent, CPU time and context
    switches, between two readings of /proc  */
#ifndef LOT_PROCSTAT_H_INCLUDED
#define LOT_PROCSTAT_H_INCLUDED

#include <stdint.h>

typedef struct _lot_procstat_t lot_procstat_t;

//  Watches the processes of PIDS ("PID[,PID...]"); NULL when it names none
//  or holds anything but numbers.
lot_procstat_t *
    lot_procstat_new (const char *pids);

void
    lot_procstat_destroy (lot_procstat_t **self_p);

//  Reads every process now: the first reading is the start, the last the
//  end. Returns 0, or -1 (said) when a process is gone.
int
    lot_procstat_read (lot_procstat_t *self);

//  User and system CPU seconds of all the processes, between the first
//  reading and the last.
double
    lot_procstat_cpu_seconds (lot_procstat_t *self);

//  Voluntary and involuntary context switches of all the threads of all
//  the processes, likewise.
uint64_t
    lot_procstat_switches (lot_procstat_t *self);

//  The voluntary ones alone (a thread waiting for work): involuntary ones
//  (preemption) grow with other work on the machine.
uint64_t
    lot_procstat_voluntary (lot_procstat_t *self);

#endif
