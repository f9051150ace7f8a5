// valgrind 3.19 writes into the signal mask passed to rt_sigsuspend (to unblock its own signal); libdispatch's
// signal thread passes a mask in read-only memory, so valgrind crashes ("Valgrind received a signal 11 (SIGSEGV)",
// thread 1 in syscall 130 under _dispatch_sig_thread) on every Swift executable that reaches dispatch_main.
// Preloaded under valgrind only (bench/profile.py): the mask is copied to the stack first.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>

int sigsuspend(const sigset_t *mask) {
    static int (*real)(const sigset_t *);
    if (!real) real = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
    sigset_t copy = *mask;
    return real(&copy);
}
