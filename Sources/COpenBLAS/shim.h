// CBLAS from libopenblas-dev, plus the few LAPACK routines listwise uses.
// libopenblas exports the Fortran LAPACK symbols directly, so no LAPACKE is needed:
// every argument is passed by pointer, integers are 32-bit, and each character
// argument is followed by a trailing size_t length.
#pragma once
#include <stddef.h>
#include <cblas.h>

void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda,
            double *b, const int *ldb, int *info, size_t uplo_len);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a,
             const int *lda, double *b, const int *ldb, int *info, size_t uplo_len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len);
