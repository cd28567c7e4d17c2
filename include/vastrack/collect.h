/* vastrack/collect.h: placeholder until the collect module lands. */
#ifndef VASTRACK_COLLECT_H
#define VASTRACK_COLLECT_H
#include "base.h"
#endif
