/* Roofline facts for this machine: peak FMA rate (float32/float64; 512-bit
 * and 256-bit vectors) and memory copy bandwidth, for 1 and 2 threads.
 * Not part of the package; the numbers back the limits quoted in the
 * benchmark notes.  Build and run (x86-64, gcc):
 *
 *     gcc -O3 -funroll-all-loops -mavx2 -mfma -fopenmp build_tools/roofline.c -o /tmp/roofline
 *     /tmp/roofline
 *
 * FLOPs = 2 per fused multiply-add; copy bandwidth counts read + write.
 */
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static double now(void){return omp_get_wtime();}
#define ITER 200000000L
__attribute__((target("avx512f"))) static double fma512_ps(int nt){
  double t0=now(); float sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m512 a[12]; __m512 b=_mm512_set1_ps(1.0000001f), c=_mm512_set1_ps(1e-7f);
    for(int i=0;i<12;i++) a[i]=_mm512_set1_ps((float)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm512_fmadd_ps(a[i],b,c);}
    for(int i=0;i<12;i++) sink+=_mm512_reduce_add_ps(a[i]); }
  double t=now()-t0; if(sink==1.2345f) printf("x");
  return (double)nt*(ITER/12)*12*16*2/t/1e9; }
__attribute__((target("avx512f"))) static double fma512_pd(int nt){
  double t0=now(); double sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m512d a[12]; __m512d b=_mm512_set1_pd(1.0000001), c=_mm512_set1_pd(1e-7);
    for(int i=0;i<12;i++) a[i]=_mm512_set1_pd((double)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm512_fmadd_pd(a[i],b,c);}
    for(int i=0;i<12;i++) sink+=_mm512_reduce_add_pd(a[i]); }
  double t=now()-t0; if(sink==1.2345) printf("x");
  return (double)nt*(ITER/12)*12*8*2/t/1e9; }
__attribute__((target("avx2,fma"))) static double fma256_ps(int nt){
  double t0=now(); float sink=0;
  #pragma omp parallel num_threads(nt) reduction(+:sink)
  { __m256 a[12]; __m256 b=_mm256_set1_ps(1.0000001f), c=_mm256_set1_ps(1e-7f);
    for(int i=0;i<12;i++) a[i]=_mm256_set1_ps((float)i);
    for(long it=0; it<ITER/12; it++){ for(int i=0;i<12;i++) a[i]=_mm256_fmadd_ps(a[i],b,c);}
    float tmp[8]; for(int i=0;i<12;i++){_mm256_storeu_ps(tmp,a[i]); sink+=tmp[0];} }
  double t=now()-t0; if(sink==1.2345f) printf("x");
  return (double)nt*(ITER/12)*12*8*2/t/1e9; }
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
int main(){
  for(int nt=1;nt<=2;nt++){
    printf("threads %d: FMA peak f32 avx512 %.0f GFLOP/s, f64 avx512 %.0f GFLOP/s, f32 avx2 %.0f GFLOP/s\n", nt, fma512_ps(nt), fma512_pd(nt), fma256_ps(nt));
    printf("threads %d: copy 256MB %.1f GB/s (read+write), read 256MB %.1f GB/s; copy 16MB %.1f GB/s\n", nt, bw(nt,1<<26,0), bw(nt,1<<26,1), bw(nt,1<<22,0));
  }
}
