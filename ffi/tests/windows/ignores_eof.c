/* A host that never reads its stdin and so never sees the browser go: the orphan case
 * on Windows, where Chromium kills the cmd.exe it started the host through. */
#include <windows.h>

int main(void) {
    Sleep(30000);
    return 0;
}
