/*  lot_file - durable file I/O: whole writes, reads at an offset, syncs

    Reads and writes go on across short counts and signals; every call
    returns 0, or -1 with errno set. Nothing here knows what the files hold.
*/
#ifndef LOT_FILE_H_INCLUDED
#define LOT_FILE_H_INCLUDED

#include <stdint.h>
#include <stddef.h>
#include <sys/uio.h>

//  Writes every iovec whole (count of them, any number), with writev.
//  Changes iov as it goes.
int lot_file_write_all (int fd, struct iovec *iov, int count);

//  Reads size bytes at offset; -1 when fewer are there (errno EIO).
int lot_file_read_at (int fd, void *data, size_t size, uint64_t offset);

//  zlib's CRC-32 of the bytes from start to end of a file.
int lot_file_crc (int fd, uint64_t start, uint64_t end, uint32_t *crc);

//  Makes two files durable. *same_fs says whether they share a
//  filesystem: -1 until known, when this finds out and sets it.
int lot_file_sync_pair (int first, int second, int *same_fs);

//  Makes a file's name durable: syncs the directory that holds it.
int lot_file_sync_directory (const char *path);

#endif
