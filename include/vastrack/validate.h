/* vastrack/validate.h: placeholder until the validate module lands. */
#ifndef VASTRACK_VALIDATE_H
#define VASTRACK_VALIDATE_H
#include "base.h"
#endif
