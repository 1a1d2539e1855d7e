// SPDX-License-Identifier: Apache-2.0
/*
 * Exports the ioctl request numbers of saker_abi.h as constants: the _IO*()
 * macros expand to expressions bindgen does not evaluate.
 */
#include "saker_abi.h"

const unsigned long saker_ioc_get_info = SAKER_IOC_GET_INFO;
const unsigned long saker_ioc_enable = SAKER_IOC_ENABLE;
const unsigned long saker_ioc_disable = SAKER_IOC_DISABLE;
const unsigned long saker_ioc_set_interest = SAKER_IOC_SET_INTEREST;
const unsigned long saker_ioc_set_snaplen = SAKER_IOC_SET_SNAPLEN;
const unsigned long saker_ioc_get_stats = SAKER_IOC_GET_STATS;
const unsigned long saker_ioc_get_syscall_map = SAKER_IOC_GET_SYSCALL_MAP;
