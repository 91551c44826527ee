#!/bin/sh
# meson install script: installs the sample streetd.conf as DIR/streetd.conf
# (under $DESTDIR) only if there is no such file yet, so that reinstalling
# never overwrites an admin's configuration.  The pristine sample is always
# installed under share/doc/streetd/examples/ as well.
#   install-conf.sh SAMPLE DIR
set -eu
sample=$1
dir=${DESTDIR:-}$2
if [ -e "$dir/streetd.conf" ]; then
	echo "Keeping $dir/streetd.conf (the sample is in share/doc/streetd/examples/)"
	exit 0
fi
mkdir -p "$dir"
# 0640: the file may hold a database password; the tmpfiles snippet gives it
# to group streetd once that group exists.
install -m 0640 "$sample" "$dir/streetd.conf"
echo "Installing $sample to $dir/streetd.conf"
