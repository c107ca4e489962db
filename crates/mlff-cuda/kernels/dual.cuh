// Dual numbers a + b ε (ε² = 0) as the kernels' `real`, so every kernel file also compiles into a
// forward-mode derivative of itself: with `typedef mlff_dual real;` each value carries its
// directional derivative along one tangent. NequIP's force-loss gradient needs exactly that
// (mlff-nequip's design B: the energy and force passes run on duals whose tangent is a
// direction in position space; mlff_e3::Dual is the CPU counterpart these kernels are checked
// against).
//
// Compiled after a prelude that fixes the base precision (`typedef double mlff_base;` or
// float). The struct is not a template so that literals and ints convert implicitly in mixed
// expressions (`2 * x`, `(real)1 - s`), as the kernels write them. It has standard layout
// {re, eps}, matching mlff_e3::Dual's #[repr(C)] layout on the host.
//
// Comparisons look at the value only (branches follow the primal computation). Math functions
// call the base-precision versions through `::` because the overloads declared here hide the
// global names inside the namespace the emulation wraps the kernels in.

struct mlff_dual {
    mlff_base re;
    mlff_base eps;

    mlff_dual() = default;
    __device__ __forceinline__ mlff_dual(mlff_base value) : re(value), eps(0) {}
    __device__ __forceinline__ mlff_dual(mlff_base value, mlff_base tangent)
        : re(value), eps(tangent)
    {
    }

    __device__ __forceinline__ mlff_dual& operator+=(mlff_dual b)
    {
        re += b.re;
        eps += b.eps;
        return *this;
    }
    __device__ __forceinline__ mlff_dual& operator-=(mlff_dual b)
    {
        re -= b.re;
        eps -= b.eps;
        return *this;
    }
    __device__ __forceinline__ mlff_dual& operator*=(mlff_dual b)
    {
        eps = eps * b.re + re * b.eps;
        re *= b.re;
        return *this;
    }
    __device__ __forceinline__ mlff_dual& operator/=(mlff_dual b)
    {
        eps = (eps * b.re - re * b.eps) / (b.re * b.re);
        re /= b.re;
        return *this;
    }
};

__device__ __forceinline__ mlff_dual operator+(mlff_dual a, mlff_dual b) { return a += b; }
__device__ __forceinline__ mlff_dual operator-(mlff_dual a, mlff_dual b) { return a -= b; }
__device__ __forceinline__ mlff_dual operator*(mlff_dual a, mlff_dual b) { return a *= b; }
__device__ __forceinline__ mlff_dual operator/(mlff_dual a, mlff_dual b) { return a /= b; }
__device__ __forceinline__ mlff_dual operator-(mlff_dual a) { return mlff_dual(-a.re, -a.eps); }

__device__ __forceinline__ bool operator<(mlff_dual a, mlff_dual b) { return a.re < b.re; }
__device__ __forceinline__ bool operator>(mlff_dual a, mlff_dual b) { return a.re > b.re; }
__device__ __forceinline__ bool operator<=(mlff_dual a, mlff_dual b) { return a.re <= b.re; }
__device__ __forceinline__ bool operator>=(mlff_dual a, mlff_dual b) { return a.re >= b.re; }

// f(a + bε) = f(a) + f'(a) b ε
__device__ __forceinline__ mlff_dual sqrt(mlff_dual a)
{
    mlff_base s = ::sqrt(a.re);
    return mlff_dual(s, a.eps / (2 * s));
}
__device__ __forceinline__ mlff_dual exp(mlff_dual a)
{
    mlff_base e = ::exp(a.re);
    return mlff_dual(e, e * a.eps);
}
__device__ __forceinline__ mlff_dual sin(mlff_dual a)
{
    return mlff_dual(::sin(a.re), ::cos(a.re) * a.eps);
}
__device__ __forceinline__ mlff_dual cos(mlff_dual a)
{
    return mlff_dual(::cos(a.re), -::sin(a.re) * a.eps);
}
__device__ __forceinline__ mlff_dual tanh(mlff_dual a)
{
    mlff_base t = ::tanh(a.re);
    return mlff_dual(t, (1 - t * t) * a.eps);
}

// Both parts added atomically (each part's sum is exact up to order, like the real case).
__device__ __forceinline__ mlff_dual atomicAdd(mlff_dual* address, mlff_dual value)
{
    mlff_base re = ::atomicAdd(&address->re, value.re);
    mlff_base eps = ::atomicAdd(&address->eps, value.eps);
    return mlff_dual(re, eps);
}
