/* Roofline facts for this machine: peak FMA rate (float32/float64; 512-bit
 * and 256-bit vectors) and memory copy bandwidth, for 1 and 2 threads.
 * Not part of the package; the numbers back the limits quoted in the
 * benchmark notes.  Build and run (x86-64, gcc or clang):
 *
 *     gcc -O3 -funroll-all-loops -fopenmp build_tools/roofline.c -o /tmp/roofline
 *     /tmp/roofline
 *
 * Each FMA loop is compiled for its own ISA (target attributes) and run only
 * when the CPU has it (__builtin_cpu_supports), so the same binary runs on
 * AVX2-only and AVX-512 CPUs; build without -mavx2/-mavx512f (the copy loops
 * then stay baseline x86-64 code).  The peaks are those of the fastconv
 * SIMD levels: "avx2" = 256-bit FMA, "avx512" = 512-bit FMA.
 *
 * FLOPs = 2 per fused multiply-add; copy bandwidth counts read + write.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static double now(void){return omp_get_wtime();}
/* Process CPU time: on a machine shared with other jobs, wall time counts the
 * time this process waits for a core; rate = work / (CPU time / threads) is
 * the peak while scheduled.  Both are printed (wall first). */
static double cpu_now(void){struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID,&t); return t.tv_sec+1e-9*t.tv_nsec;}
static double last_cpu_rate;
#define ITER 200000000L
__attribute__((target("avx512f"))) static double fma512_ps(int nt){
  double t0=now(), c0=cpu_now(); float sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m512 a[12]; __m512 b=_mm512_set1_ps(1.0000001f), c=_mm512_set1_ps(1e-7f);
    for(int i=0;i<12;i++) a[i]=_mm512_set1_ps((float)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(a[i],b,c);}
    for(int i=0;i<12;i++) sink+=_mm512_reduce_add_ps(a[i]); }
  double t=now()-t0, c=cpu_now()-c0; if(sink==1.2345f) printf("x");
  last_cpu_rate=(double)nt*(ITER/12)*12*16*2/(c/nt)/1e9;
  return (double)nt*(ITER/12)*12*16*2/t/1e9; }
__attribute__((target("avx512f"))) static double fma512_pd(int nt){
  double t0=now(), c0=cpu_now(); double sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m512d a[12]; __m512d b=_mm512_set1_pd(1.0000001), c=_mm512_set1_pd(1e-7);
    for(int i=0;i<12;i++) a[i]=_mm512_set1_pd((double)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm512_fmadd_pd(a[i],b,c);}
    for(int i=0;i<12;i++) sink+=_mm512_reduce_add_pd(a[i]); }
  double t=now()-t0, c=cpu_now()-c0; if(sink==1.2345) printf("x");
  last_cpu_rate=(double)nt*(ITER/12)*12*8*2/(c/nt)/1e9;
  return (double)nt*(ITER/12)*12*8*2/t/1e9; }
__attribute__((target("avx2,fma"))) static double fma256_ps(int nt){
  double t0=now(), c0=cpu_now(); float sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m256 a[12]; __m256 b=_mm256_set1_ps(1.0000001f), c=_mm256_set1_ps(1e-7f);
    for(int i=0;i<12;i++) a[i]=_mm256_set1_ps((float)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm256_fmadd_ps(a[i],b,c);}
    float tmp[8]; for(int i=0;i<12;i++){_mm256_storeu_ps(tmp,a[i]); sink+=tmp[0];} }
  double t=now()-t0, c=cpu_now()-c0; if(sink==1.2345f) printf("x");
  last_cpu_rate=(double)nt*(ITER/12)*12*8*2/(c/nt)/1e9;
  return (double)nt*(ITER/12)*12*8*2/t/1e9; }
__attribute__((target("avx2,fma"))) static double fma256_pd(int nt){
  double t0=now(), c0=cpu_now(); double sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m256d a[12]; __m256d b=_mm256_set1_pd(1.0000001), c=_mm256_set1_pd(1e-7);
    for(int i=0;i<12;i++) a[i]=_mm256_set1_pd((double)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm256_fmadd_pd(a[i],b,c);}
    double tmp[4]; for(int i=0;i<12;i++){_mm256_storeu_pd(tmp,a[i]); sink+=tmp[0];} }
  double t=now()-t0, c=cpu_now()-c0; if(sink==1.2345) printf("x");
  last_cpu_rate=(double)nt*(ITER/12)*12*4*2/(c/nt)/1e9;
  return (double)nt*(ITER/12)*12*4*2/t/1e9; }
static double bw(int nt, size_t n, int kind){
  float *a=aligned_alloc(64,n*4), *b=aligned_alloc(64,n*4);
  #pragma omp parallel for num_threads(nt)
  for(size_t i=0;i<n;i++){a[i]=1;b[i]=2;}
  double best=1e9;
  for(int r=0;r<7;r++){ double t0=now();
    if(kind==0){
      #pragma omp parallel for num_threads(nt) schedule(static)
      for(size_t i=0;i<n;i++) b[i]=a[i];
    } else {
      float s=0;
      #pragma omp parallel for num_threads(nt) schedule(static) reduction(+:s)
      for(size_t i=0;i<n;i++) s+=a[i];
      if(s==-1) printf("x");
    }
    double t=now()-t0; if(t<best) best=t; }
  free(a); free(b);
  return (kind==0? 2.0:1.0)*n*4/best/1e9; }
int main(void){
  __builtin_cpu_init();
  int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  int has512 = __builtin_cpu_supports("avx512f");
  printf("CPU: AVX2+FMA %s, AVX-512F %s\n", has2 ? "yes" : "no", has512 ? "yes" : "no");
  for(int nt=1;nt<=2;nt++){
    if(has2){
      double a=fma256_ps(nt), ac=last_cpu_rate, b=fma256_pd(nt), bc=last_cpu_rate;
      printf("threads %d: FMA peak avx2 (256-bit): f32 %.0f GFLOP/s (cpu %.0f), f64 %.0f GFLOP/s (cpu %.0f)\n", nt, a, ac, b, bc);
    }
    if(has512){
      double a=fma512_ps(nt), ac=last_cpu_rate, b=fma512_pd(nt), bc=last_cpu_rate;
      printf("threads %d: FMA peak avx512 (512-bit): f32 %.0f GFLOP/s (cpu %.0f), f64 %.0f GFLOP/s (cpu %.0f)\n", nt, a, ac, b, bc);
    }
    printf("threads %d: copy 256MB %.1f GB/s (read+write), read 256MB %.1f GB/s; copy 16MB %.1f GB/s\n", nt, bw(nt,1<<26,0), bw(nt,1<<26,1), bw(nt,1<<22,0));
  }
  return 0;
}
