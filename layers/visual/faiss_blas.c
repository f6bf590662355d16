/*
 * faiss's BLAS and LAPACK calls, answered by numpy's OpenBLAS.
 *
 * The faiss-cpu wheel links its own OpenBLAS (LP64, about 37 MB with its libgfortran) beside numpy's
 * (ILP64, symbols prefixed `scipy_` and suffixed `64_`); both are complete OpenBLAS builds. This library
 * takes the place of faiss's copy (built under the file name and SONAME that libfaiss.so asks for, see the
 * Makefile) and forwards the 14 routines libfaiss.so imports to numpy's copy, widening the 32-bit integers
 * faiss passes to the 64-bit ones numpy's build takes (and narrowing the integers it writes back).
 *
 * Character arguments are passed with their Fortran hidden lengths (1 each), as gfortran's ABI has them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>

typedef int32_t i32;
typedef int64_t i64;
typedef size_t flen;

/* numpy's OpenBLAS (libscipy_openblas64_), ILP64 */
extern void scipy_sgemm_64_(const char *, const char *, const i64 *, const i64 *, const i64 *, const float *,
                            const float *, const i64 *, const float *, const i64 *, const float *, float *,
                            const i64 *, flen, flen);
extern void scipy_dgemm_64_(const char *, const char *, const i64 *, const i64 *, const i64 *, const double *,
                            const double *, const i64 *, const double *, const i64 *, const double *, double *,
                            const i64 *, flen, flen);
extern void scipy_sgemv_64_(const char *, const i64 *, const i64 *, const float *, const float *, const i64 *,
                            const float *, const i64 *, const float *, float *, const i64 *, flen);
extern void scipy_ssyrk_64_(const char *, const char *, const i64 *, const i64 *, const float *, const float *,
                            const i64 *, const float *, float *, const i64 *, flen, flen);
extern void scipy_sgeqrf_64_(const i64 *, const i64 *, float *, const i64 *, float *, float *, const i64 *, i64 *);
extern void scipy_sorgqr_64_(const i64 *, const i64 *, const i64 *, float *, const i64 *, const float *, float *,
                             const i64 *, i64 *);
extern void scipy_sgesvd_64_(const char *, const char *, const i64 *, const i64 *, float *, const i64 *, float *,
                             float *, const i64 *, float *, const i64 *, float *, const i64 *, i64 *, flen, flen);
extern void scipy_dgesvd_64_(const char *, const char *, const i64 *, const i64 *, double *, const i64 *, double *,
                             double *, const i64 *, double *, const i64 *, double *, const i64 *, i64 *, flen,
                             flen);
extern void scipy_dsyev_64_(const char *, const char *, const i64 *, double *, const i64 *, double *, double *,
                            const i64 *, i64 *, flen, flen);
extern void scipy_sgetrf_64_(const i64 *, const i64 *, float *, const i64 *, i64 *, i64 *);
extern void scipy_dgetrf_64_(const i64 *, const i64 *, double *, const i64 *, i64 *, i64 *);
extern void scipy_sgetri_64_(const i64 *, float *, const i64 *, const i64 *, float *, const i64 *, i64 *);
extern void scipy_dgetri_64_(const i64 *, double *, const i64 *, const i64 *, double *, const i64 *, i64 *);
extern void scipy_sgelsd_64_(const i64 *, const i64 *, const i64 *, float *, const i64 *, float *, const i64 *,
                             float *, const float *, i64 *, float *, const i64 *, i64 *, i64 *);

#define W(x) ((i64)(*(x)))

int sgemm_(const char *ta, const char *tb, const i32 *m, const i32 *n, const i32 *k, const float *alpha,
           const float *a, const i32 *lda, const float *b, const i32 *ldb, const float *beta, float *c,
           const i32 *ldc) {
    i64 M = W(m), N = W(n), K = W(k), LDA = W(lda), LDB = W(ldb), LDC = W(ldc);
    scipy_sgemm_64_(ta, tb, &M, &N, &K, alpha, a, &LDA, b, &LDB, beta, c, &LDC, 1, 1);
    return 0;
}

int dgemm_(const char *ta, const char *tb, const i32 *m, const i32 *n, const i32 *k, const double *alpha,
           const double *a, const i32 *lda, const double *b, const i32 *ldb, const double *beta, double *c,
           const i32 *ldc) {
    i64 M = W(m), N = W(n), K = W(k), LDA = W(lda), LDB = W(ldb), LDC = W(ldc);
    scipy_dgemm_64_(ta, tb, &M, &N, &K, alpha, a, &LDA, b, &LDB, beta, c, &LDC, 1, 1);
    return 0;
}

int sgemv_(const char *t, const i32 *m, const i32 *n, const float *alpha, const float *a, const i32 *lda,
           const float *x, const i32 *incx, const float *beta, float *y, const i32 *incy) {
    i64 M = W(m), N = W(n), LDA = W(lda), INCX = W(incx), INCY = W(incy);
    scipy_sgemv_64_(t, &M, &N, alpha, a, &LDA, x, &INCX, beta, y, &INCY, 1);
    return 0;
}

int ssyrk_(const char *uplo, const char *t, const i32 *n, const i32 *k, const float *alpha, const float *a,
           const i32 *lda, const float *beta, float *c, const i32 *ldc) {
    i64 N = W(n), K = W(k), LDA = W(lda), LDC = W(ldc);
    scipy_ssyrk_64_(uplo, t, &N, &K, alpha, a, &LDA, beta, c, &LDC, 1, 1);
    return 0;
}

int sgeqrf_(const i32 *m, const i32 *n, float *a, const i32 *lda, float *tau, float *work, const i32 *lwork,
            i32 *info) {
    i64 M = W(m), N = W(n), LDA = W(lda), LWORK = W(lwork), INFO = 0;
    scipy_sgeqrf_64_(&M, &N, a, &LDA, tau, work, &LWORK, &INFO);
    *info = (i32)INFO;
    return 0;
}

int sorgqr_(const i32 *m, const i32 *n, const i32 *k, float *a, const i32 *lda, const float *tau, float *work,
            const i32 *lwork, i32 *info) {
    i64 M = W(m), N = W(n), K = W(k), LDA = W(lda), LWORK = W(lwork), INFO = 0;
    scipy_sorgqr_64_(&M, &N, &K, a, &LDA, tau, work, &LWORK, &INFO);
    *info = (i32)INFO;
    return 0;
}

int sgesvd_(const char *ju, const char *jvt, const i32 *m, const i32 *n, float *a, const i32 *lda, float *s,
            float *u, const i32 *ldu, float *vt, const i32 *ldvt, float *work, const i32 *lwork, i32 *info) {
    i64 M = W(m), N = W(n), LDA = W(lda), LDU = W(ldu), LDVT = W(ldvt), LWORK = W(lwork), INFO = 0;
    scipy_sgesvd_64_(ju, jvt, &M, &N, a, &LDA, s, u, &LDU, vt, &LDVT, work, &LWORK, &INFO, 1, 1);
    *info = (i32)INFO;
    return 0;
}

int dgesvd_(const char *ju, const char *jvt, const i32 *m, const i32 *n, double *a, const i32 *lda, double *s,
            double *u, const i32 *ldu, double *vt, const i32 *ldvt, double *work, const i32 *lwork, i32 *info) {
    i64 M = W(m), N = W(n), LDA = W(lda), LDU = W(ldu), LDVT = W(ldvt), LWORK = W(lwork), INFO = 0;
    scipy_dgesvd_64_(ju, jvt, &M, &N, a, &LDA, s, u, &LDU, vt, &LDVT, work, &LWORK, &INFO, 1, 1);
    *info = (i32)INFO;
    return 0;
}

int dsyev_(const char *jobz, const char *uplo, const i32 *n, double *a, const i32 *lda, double *w, double *work,
           const i32 *lwork, i32 *info) {
    i64 N = W(n), LDA = W(lda), LWORK = W(lwork), INFO = 0;
    scipy_dsyev_64_(jobz, uplo, &N, a, &LDA, w, work, &LWORK, &INFO, 1, 1);
    *info = (i32)INFO;
    return 0;
}

/* The pivot indices: written (getrf) or read (getri) as 32-bit by faiss, 64-bit by numpy's build. */
static i64 *wide_pivots(const i32 *ipiv, i64 count) {
    i64 *wide = malloc(sizeof(i64) * (size_t)(count > 0 ? count : 1));
    if (wide && ipiv)
        for (i64 i = 0; i < count; i++) wide[i] = ipiv[i];
    return wide;
}

int sgetrf_(const i32 *m, const i32 *n, float *a, const i32 *lda, i32 *ipiv, i32 *info) {
    i64 M = W(m), N = W(n), LDA = W(lda), INFO = 0, count = M < N ? M : N;
    i64 *pivots = wide_pivots(NULL, count);
    if (!pivots) { *info = -1000; return 0; }
    scipy_sgetrf_64_(&M, &N, a, &LDA, pivots, &INFO);
    for (i64 i = 0; i < count; i++) ipiv[i] = (i32)pivots[i];
    free(pivots);
    *info = (i32)INFO;
    return 0;
}

int dgetrf_(const i32 *m, const i32 *n, double *a, const i32 *lda, i32 *ipiv, i32 *info) {
    i64 M = W(m), N = W(n), LDA = W(lda), INFO = 0, count = M < N ? M : N;
    i64 *pivots = wide_pivots(NULL, count);
    if (!pivots) { *info = -1000; return 0; }
    scipy_dgetrf_64_(&M, &N, a, &LDA, pivots, &INFO);
    for (i64 i = 0; i < count; i++) ipiv[i] = (i32)pivots[i];
    free(pivots);
    *info = (i32)INFO;
    return 0;
}

int sgetri_(const i32 *n, float *a, const i32 *lda, const i32 *ipiv, float *work, const i32 *lwork, i32 *info) {
    i64 N = W(n), LDA = W(lda), LWORK = W(lwork), INFO = 0;
    i64 *pivots = wide_pivots(ipiv, N);
    if (!pivots) { *info = -1000; return 0; }
    scipy_sgetri_64_(&N, a, &LDA, pivots, work, &LWORK, &INFO);
    free(pivots);
    *info = (i32)INFO;
    return 0;
}

int dgetri_(const i32 *n, double *a, const i32 *lda, const i32 *ipiv, double *work, const i32 *lwork, i32 *info) {
    i64 N = W(n), LDA = W(lda), LWORK = W(lwork), INFO = 0;
    i64 *pivots = wide_pivots(ipiv, N);
    if (!pivots) { *info = -1000; return 0; }
    scipy_dgetri_64_(&N, a, &LDA, pivots, work, &LWORK, &INFO);
    free(pivots);
    *info = (i32)INFO;
    return 0;
}

/* iwork's length is not passed: a workspace query tells it (a query itself writes one integer). */
int sgelsd_(const i32 *m, const i32 *n, const i32 *nrhs, float *a, const i32 *lda, float *b, const i32 *ldb,
            float *s, const float *rcond, i32 *rank, float *work, const i32 *lwork, i32 *iwork, i32 *info) {
    i64 M = W(m), N = W(n), NRHS = W(nrhs), LDA = W(lda), LDB = W(ldb), LWORK = W(lwork), RANK = 0, INFO = 0;
    i64 query = -1, liwork = 1;
    float size = 0;
    scipy_sgelsd_64_(&M, &N, &NRHS, a, &LDA, b, &LDB, s, rcond, &RANK, &size, &query, &liwork, &INFO);
    if (INFO != 0) { *info = (i32)INFO; return 0; }
    if (LWORK == -1) {
        work[0] = size;
        iwork[0] = (i32)liwork;
        *info = 0;
        return 0;
    }
    i64 *wide = malloc(sizeof(i64) * (size_t)(liwork > 0 ? liwork : 1));
    if (!wide) { *info = -1000; return 0; }
    scipy_sgelsd_64_(&M, &N, &NRHS, a, &LDA, b, &LDB, s, rcond, &RANK, work, &LWORK, wide, &INFO);
    free(wide);
    *rank = (i32)RANK;
    *info = (i32)INFO;
    return 0;
}
