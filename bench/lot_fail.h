/*  lot_fail - how the load generator says what failed  */
#ifndef LOT_FAIL_H_INCLUDED
#define LOT_FAIL_H_INCLUDED

//  Prints "loadgen: FAIL: agency N: what" to stderr ("loadgen: FAIL: what"
//  for agency 0). Returns -1, for return lot_fail (...).
int
    lot_fail (unsigned agency, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

#endif
