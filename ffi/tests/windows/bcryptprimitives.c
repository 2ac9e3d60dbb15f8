/*
 * Wine 8.0 (Debian 12's) has no bcryptprimitives.dll, and Rust's standard library imports
 * ProcessPrng from it (Rust 1.78 and later), so no Rust program starts under that Wine.
 * The Windows tests put this stand-in next to the programs they run under Wine; real
 * Windows 10 and later have the DLL. It draws the bytes from RtlGenRandom (advapi32's
 * SystemFunction036), which Wine implements.
 */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk)) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
