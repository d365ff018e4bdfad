#include "qtfs_cpu.h"
#if defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif

int qtfs_cpu_has_aes(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes") ? 1 : 0;
#elif defined(__aarch64__)
	return (getauxval(AT_HWCAP) & HWCAP_AES) ? 1 : 0;
#else
	return 0;
#endif
}
