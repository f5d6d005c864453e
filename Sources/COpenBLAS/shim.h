// Debian's libopenblas-dev installs cblas.h under the multiarch include directory
// and selects the pthread flavour through update-alternatives.
#include <cblas.h>
