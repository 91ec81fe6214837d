/* sheet_gen: the benchmarks' register sheets: realistic, deterministic rows. */
#ifndef BENCH_SHEET_GEN_H
#define BENCH_SHEET_GEN_H

/* Writes a 学时登记表 of `rows` rows over `teachers` teachers to path (UTF-8 with BOM, Chinese
 * headers, categories as codes or Chinese labels, some quoted notes): each teacher once per
 * block of `teachers` rows, blocks on disjoint spans of block_days days from 2024-09-02, so
 * every row is a new activity. The same arguments give the same bytes. 0, or -1 when the file
 * cannot be written (errno says why). */
int bench_sheet_write(const char *path, unsigned rows, unsigned teachers, unsigned block_days);

#endif
