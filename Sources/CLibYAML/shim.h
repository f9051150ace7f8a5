// libyaml (Debian's libyaml-dev): the YAML 1.1 parser the collector reads its configuration with.
#include <yaml.h>
