/** The program ran and did what it was asked (or its stdout was closed by the reader). */
export const EXIT_OK = 0;
/** The program ran and something it was asked failed. */
export const EXIT_FAILURE = 1;
/** Bad flags or arguments, a bad input file: the program did nothing. */
export const EXIT_USAGE = 2;
