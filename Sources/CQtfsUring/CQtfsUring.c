#include "CQtfsUring.h"
