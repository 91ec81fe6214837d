/* sheet_gen: the benchmarks' register sheets: realistic, deterministic rows. */
#ifndef BENCH_SHEET_GEN_H
#define BENCH_SHEET_GEN_H

/* Writes a 学时登记表 of `rows` rows over `teachers` teachers to path (UTF-8 with BOM, Chinese
 * headers, categories as codes or Chinese labels, some quoted notes): each teacher once per
 * block of `teachers` rows, blocks on disjoint spans of block_days days from 2024-09-02, so
 * every row is a new activity. The same arguments give the same bytes. 0, or -1 when the file
 * cannot be written (errno says why). */
int bench_sheet_write(const char *path, unsigned rows, unsigned teachers, unsigned block_days);

/* Which rows of a sheet to write, and whose. */
typedef struct bench_sheet {
    unsigned rows;          /* rows written */
    unsigned teachers;      /* teachers of the sheet */
    unsigned block_days;    /* days each block of `teachers` rows spans */
    unsigned first_row;     /* the number of the first row written in the whole sheet: sheets of
                               consecutive ranges hold the whole sheet's rows, none twice */
    unsigned first_teacher; /* row i is teacher T(first_teacher + i % teachers + 1) */
} bench_sheet_t;

/* bench_sheet_write for rows first_row .. first_row + rows - 1 of the sheet, of the teachers
 * after first_teacher: each row is generated from its number alone, so a range is the same
 * bytes as in the whole sheet, at the cost of its own rows only. */
int bench_sheet_write_rows(const char *path, const bench_sheet_t *sheet);

#endif
