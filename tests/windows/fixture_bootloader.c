/*
 * The Windows stand-in for the reference app's backend in the restart, stop and reap tests:
 * it is built like a PyInstaller one-file program. The process voxctl starts (the
 * "bootloader") starts a child copy of itself and waits for it; the child is the server that
 * holds the port. Ending only the bootloader leaves the child serving, which is the case the
 * Windows restart and stop must handle (end the whole tree, then see the port free).
 *
 * It speaks the contract of examples/fixture_backend.rs (the Linux fixture):
 *
 * - `--version` prints `voicebox-server X.Y.Z` and exits 0 (in the bootloader, no child);
 * - `--data-dir DIR --port N` (other arguments are accepted and echoed in /health);
 * - `GET /health` answers {"status":"healthy","backend_variant":"...","version":"...",
 *   "pid":CHILD,"worker_pid":null,"bootloader_pid":BOOTLOADER,"args":[...]} on 127.0.0.1:N,
 *   where "pid" is the process holding the port (the child) and "bootloader_pid" its parent.
 *
 * The sidecar `{its own path}.fixture` holds `key=value` lines, as for the Linux fixture:
 * `version`, `variant` (default from the file name: `voicebox-server-cuda.exe` -> `cuda`),
 * `start_delay_ms`, `never_healthy`, `exit_code`, `version_delay_ms`, and for a graceful stop:
 * `ignore_term` (1: the child ignores CTRL_BREAK/CTRL_C, so only termination ends it) and
 * `linger_ms` (after CTRL_BREAK the child keeps the port this long, then exits 0). The keys
 * about Unix process groups (`port_holder_ms`, `worker`) have no meaning here and are ignored.
 *
 * The bootloader ignores console control events, as PyInstaller's does: a CTRL_BREAK sent to
 * the process group reaches the child, whose exit ends the bootloader's wait; the bootloader
 * then exits with the child's status.
 *
 * `--hold-lockfile PATH` instead holds PATH open without sharing until terminated, as a
 * Chromium/CEF browser holds its profile's `lockfile` (the reap tests' wedged instance).
 *
 * Test support only, never shipped. Built by scripts/windows-test.sh:
 *   x86_64-w64-mingw32-gcc -O2 -o fixture_bootloader.exe fixture_bootloader.c -lws2_32
 */
#include <winsock2.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHILD_ENV L"VOXCTL_FIXTURE_BOOTLOADER_CHILD"

static char version[64] = "0.1.0";
static char variant[64] = "";
static unsigned long start_delay_ms, linger_ms, version_delay_ms;
static int never_healthy, ignore_term, has_exit_code, exit_code;

/* Reads `{exe}.fixture` (missing = defaults) and the variant from the file name. */
static void read_config(void)
{
    wchar_t exe[MAX_PATH + 16];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    if (n == 0 || n >= MAX_PATH)
        return;
    /* Default variant: what follows the last '-' of the file name, without ".exe". */
    char name[MAX_PATH * 3];
    WideCharToMultiByte(CP_UTF8, 0, exe, -1, name, sizeof name, NULL, NULL);
    char *base = strrchr(name, '\\');
    base = base ? base + 1 : name;
    size_t len = strlen(base);
    if (len > 4 && _stricmp(base + len - 4, ".exe") == 0)
        base[len - 4] = 0;
    char *dash = strrchr(base, '-');
    snprintf(variant, sizeof variant, "%s", dash ? dash + 1 : "cpu");

    wcscat(exe, L".fixture");
    FILE *f = _wfopen(exe, L"r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *key = line, *val = eq + 1;
        while (*key == ' ') key++;
        while (*val == ' ') val++;
        for (char *e = key + strlen(key); e > key && e[-1] == ' ';) *--e = 0;
        for (char *e = val + strlen(val); e > val && e[-1] == ' ';) *--e = 0;
        if (!strcmp(key, "version")) snprintf(version, sizeof version, "%s", val);
        else if (!strcmp(key, "variant")) snprintf(variant, sizeof variant, "%s", val);
        else if (!strcmp(key, "start_delay_ms")) start_delay_ms = strtoul(val, NULL, 10);
        else if (!strcmp(key, "linger_ms")) linger_ms = strtoul(val, NULL, 10);
        else if (!strcmp(key, "version_delay_ms")) version_delay_ms = strtoul(val, NULL, 10);
        else if (!strcmp(key, "never_healthy")) never_healthy = atoi(val) == 1;
        else if (!strcmp(key, "ignore_term")) ignore_term = atoi(val) == 1;
        else if (!strcmp(key, "exit_code")) { has_exit_code = 1; exit_code = atoi(val); }
    }
    fclose(f);
}

/* The bootloader: every console event is the child's to handle. */
static BOOL WINAPI bootloader_ctrl(DWORD type)
{
    (void)type;
    return TRUE;
}

/* The child: CTRL_BREAK/CTRL_C is the graceful stop (after `linger_ms`), unless ignored.
 * Runs on its own thread (Windows starts one per event), so sleeping here keeps serving. */
static BOOL WINAPI child_ctrl(DWORD type)
{
    if (type != CTRL_BREAK_EVENT && type != CTRL_C_EVENT)
        return FALSE;
    fprintf(stderr, "fixture: console event %lu received\n", type);
    fflush(stderr);
    if (ignore_term)
        return TRUE;
    Sleep(linger_ms);
    ExitProcess(0);
}

/* Appends `s` to `out` as a JSON string. */
static void json_string(char *out, size_t cap, const char *s)
{
    size_t n = strlen(out);
    if (n + 2 >= cap) return;
    out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { out[n++] = '\\'; out[n++] = c; }
        else if (c < 0x20) n += snprintf(out + n, cap - n, "\\u%04x", c);
        else out[n++] = c;
    }
    out[n++] = '"';
    out[n] = 0;
}

static void serve(SOCKET s, int argc, char **argv, DWORD bootloader_pid)
{
    DWORD timeout = 2000;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof timeout);
    char req[65536];
    int len = 0;
    while (len < (int)sizeof req - 1) {
        int r = recv(s, req + len, sizeof req - 1 - len, 0);
        if (r <= 0) break;
        len += r;
        req[len] = 0;
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[len] = 0;
    char path[1024] = "";
    sscanf(req, "%*s %1023s", path);
    char *q = strchr(path, '?');
    if (q) *q = 0;

    static char body[65536];
    const char *code;
    if (strcmp(path, "/health") != 0) {
        code = "404 Not Found";
        snprintf(body, sizeof body, "{\"detail\":\"not found\"}");
    } else if (never_healthy) {
        code = "503 Service Unavailable";
        snprintf(body, sizeof body, "{\"status\":\"starting\"}");
    } else {
        code = "200 OK";
        snprintf(body, sizeof body, "{\"status\":\"healthy\",\"backend_variant\":");
        json_string(body, sizeof body, variant);
        strcat(body, ",\"version\":");
        json_string(body, sizeof body, version);
        size_t n = strlen(body);
        snprintf(body + n, sizeof body - n,
                 ",\"pid\":%lu,\"worker_pid\":null,\"bootloader_pid\":%lu,\"args\":[",
                 GetCurrentProcessId(), bootloader_pid);
        for (int i = 1; i < argc; i++) {
            if (i > 1) strcat(body, ",");
            json_string(body, sizeof body - 4, argv[i]);
        }
        strcat(body, "]}");
    }
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %u\r\n"
                      "connection: close\r\n\r\n",
                      code, (unsigned)strlen(body));
    send(s, head, hl, 0);
    send(s, body, (int)strlen(body), 0);
    shutdown(s, SD_SEND);
    closesocket(s);
}

static int child_main(int argc, char **argv, unsigned short port)
{
    SetConsoleCtrlHandler(child_ctrl, TRUE);
    wchar_t parent[32] = L"0";
    GetEnvironmentVariableW(CHILD_ENV, parent, 32);
    DWORD bootloader_pid = wcstoul(parent, NULL, 10);
    Sleep(start_delay_ms);
    if (has_exit_code) {
        fprintf(stderr, "fixture: crashing on purpose with status %d\n", exit_code);
        return exit_code;
    }
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) {
        fprintf(stderr, "fixture: WSAStartup failed\n");
        return 1;
    }
    SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    /* Exclusive, as Rust's TcpListener is not: a second server on the port must fail. */
    BOOL one = TRUE;
    setsockopt(l, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l == INVALID_SOCKET || bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(l, 64) != 0) {
        fprintf(stderr, "fixture: cannot bind 127.0.0.1:%u: error %d\n", port, WSAGetLastError());
        return 1;
    }
    /* The listening socket must not leak into processes this one starts. */
    SetHandleInformation((HANDLE)l, HANDLE_FLAG_INHERIT, 0);
    printf("fixture: listening on 127.0.0.1:%u\n", port);
    fflush(stdout);
    for (;;) {
        SOCKET s = accept(l, NULL, NULL);
        if (s != INVALID_SOCKET)
            serve(s, argc, argv, bootloader_pid);
    }
}

static int bootloader_main(void)
{
    SetConsoleCtrlHandler(bootloader_ctrl, TRUE);
    wchar_t exe[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    if (n == 0 || n >= MAX_PATH) {
        fprintf(stderr, "fixture: cannot find its own path\n");
        return 1;
    }
    wchar_t pid[32];
    swprintf(pid, 32, L"%lu", GetCurrentProcessId());
    SetEnvironmentVariableW(CHILD_ENV, pid);
    /* Same command line, same console and process group, inherited stdio. */
    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessW(exe, GetCommandLineW(), NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
        fprintf(stderr, "fixture: cannot start its child: error %lu\n", GetLastError());
        return 1;
    }
    printf("fixture: bootloader pid %lu started child pid %lu\n", GetCurrentProcessId(),
           pi.dwProcessId);
    fflush(stdout);
    CloseHandle(pi.hThread);
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD status = 1;
    GetExitCodeProcess(pi.hProcess, &status);
    return (int)status;
}

/*
 * `--hold-lockfile PATH`: what a Chromium/CEF browser does with its profile's `lockfile` on
 * Windows: open it without sharing (any other open then fails with a sharing violation) and
 * keep it open, here until terminated. The wedged instance of the Windows reap tests.
 */
static int hold_lockfile(const char *path)
{
    HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "cannot open %s: error %lu\n", path, GetLastError());
        return 1;
    }
    for (;;)
        Sleep(INFINITE);
}

int main(int argc, char **argv)
{
    read_config();
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--hold-lockfile"))
            return hold_lockfile(argv[i + 1]);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--version")) {
            Sleep(version_delay_ms);
            printf("voicebox-server %s\n", version);
            return 0;
        }
    }
    unsigned short port = 17493;
    const char *data_dir = "";
    for (int i = 1; i + 1 < argc; i++) {
        if (!strcmp(argv[i], "--port")) port = (unsigned short)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--data-dir")) data_dir = argv[++i];
    }
    if (GetEnvironmentVariableW(CHILD_ENV, NULL, 0) > 0)
        return child_main(argc, argv, port);
    printf("fixture: %s %s pid %lu starting on port %u, data dir \"%s\"\n", variant, version,
           GetCurrentProcessId(), port, data_dir);
    fflush(stdout);
    return bootloader_main();
}
