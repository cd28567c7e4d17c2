/* vastrack/net.h: placeholder until the net module lands. */
#ifndef VASTRACK_NET_H
#define VASTRACK_NET_H
#include "base.h"
#endif
