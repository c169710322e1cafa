/*
 * Test support only, never shipped: Wine 8 has no bcryptprimitives.dll, which Rust's std
 * imports for ProcessPrng (its only source of random bytes on Windows 10 and later: HashMap
 * seeds, tempfile names). This DLL, placed beside the test executables, implements that one
 * export with RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c \
 *        bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Fills `len` bytes at `data` with random bytes; always TRUE, as the real one (it never fails:
 * a failure of the system's generator is fatal there, so it is here too). RtlGenRandom takes
 * a ULONG, so larger requests are filled in pieces. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000u ? 0x40000000u : (ULONG)len;
        if (!SystemFunction036(data, n)) {
            ExitProcess(0xC0000001u);
        }
        data += n;
        len -= n;
    }
    return TRUE;
}
