# qtfs-swift: build, install and test entry points. See README.md.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= /sbin
BUILD_DIR ?= .build/release
UNITDIR ?= /etc/systemd/system
CONFDIR ?= /etc/qtfs
MANDIR ?= /usr/local/share/man
# man/manN/ mirrors $(MANDIR)/manN/.
MAN_PAGES := $(wildcard man/man*/*.[158])
# The release, from debian/changelog's newest entry (a native package: no Debian revision).
VERSION := $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
DKMS_DIR = $(DESTDIR)/usr/src/qtfs-$(VERSION)
# Where `make deb` leaves the .deb files (dpkg-buildpackage writes them next to the tree).
DEB_OUT ?= out/deb

.PHONY: build install install-bin install-man install-key uninstall test demo bench kmod dkms-src deb

build:
	swift build -c release

install: build install-bin install-man install-key

# A fresh pre-shared key for the authentication handshake, unless one exists: copy it to
# each client (qtfs-fuse -o key=FILE). Kept by uninstall, like an edited configuration.
install-key:
	[ -e $(DESTDIR)$(CONFDIR)/qtfs.key ] || $(BUILD_DIR)/qtfs-server --generate-key $(DESTDIR)$(CONFDIR)/qtfs.key

# Installs already-built binaries (from BUILD_DIR), the mount helper, the systemd unit
# and an example configuration (never overwriting an existing one).
install-bin:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)
	install -m 755 $(BUILD_DIR)/qtfs-server $(BUILD_DIR)/qtfs-fuse $(BUILD_DIR)/qtinfo $(BUILD_DIR)/qtfs-rexec $(BUILD_DIR)/qtfs-run $(DESTDIR)$(BINDIR)/
	ln -sf $(BINDIR)/qtfs-fuse $(DESTDIR)$(SBINDIR)/mount.qtfs
	ln -sf qtfs-rexec $(DESTDIR)$(BINDIR)/rexec   # upstream's name: `rexec PROGRAM ARGS...`
	sed 's|@BINDIR@|$(BINDIR)|' packaging/qtfs-server.service > $(DESTDIR)$(UNITDIR)/qtfs-server.service
	[ -e $(DESTDIR)$(CONFDIR)/server.conf ] || install -m 600 packaging/server.conf.example $(DESTDIR)$(CONFDIR)/server.conf

# The manual pages (`man qtfs-fuse`, `man 5 qtfs-server.conf`, ...), each into its section.
install-man:
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 644 $(filter %.1,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/

# Removes what install put in place, except a configuration the administrator may have edited.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qtfs-server $(DESTDIR)$(BINDIR)/qtfs-fuse $(DESTDIR)$(BINDIR)/qtinfo
	rm -f $(DESTDIR)$(BINDIR)/qtfs-rexec $(DESTDIR)$(BINDIR)/qtfs-run $(DESTDIR)$(BINDIR)/rexec
	rm -f $(DESTDIR)$(SBINDIR)/mount.qtfs $(DESTDIR)$(UNITDIR)/qtfs-server.service
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/%,$(MAN_PAGES))
	@if cmp -s packaging/server.conf.example $(DESTDIR)$(CONFDIR)/server.conf; then \
		rm -f $(DESTDIR)$(CONFDIR)/server.conf; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	else echo "kept $(DESTDIR)$(CONFDIR)/server.conf (edited); remove it by hand if unwanted"; fi

test:
	scripts/test.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

kmod:
	$(MAKE) -C kmod

# The module's source as DKMS builds it (the qtfs-dkms package; or by hand:
# make dkms-src DESTDIR= && dkms install qtfs/VERSION). Self-contained: the shared headers
# go under include/qtfs/, so the Kbuild include path loses its `../`.
dkms-src:
	@[ -n "$(VERSION)" ] || { echo "qtfs: no version in debian/changelog (is dpkg-dev installed?)" >&2; exit 1; }
	install -d $(DKMS_DIR)/include/qtfs
	install -m 644 kmod/*.c kmod/*.h $(DKMS_DIR)/
	install -m 644 include/qtfs/*.h $(DKMS_DIR)/include/qtfs/
	sed 's|-I$$(src)/../include|-I$$(src)/include|' kmod/Kbuild > $(DKMS_DIR)/Kbuild
	@grep -q -- '-I$$(src)/include' $(DKMS_DIR)/Kbuild || { echo "qtfs: kmod/Kbuild's include path changed; update the dkms-src target" >&2; exit 1; }
	sed 's|#MODULE_VERSION#|$(VERSION)|' kmod/dkms.conf > $(DKMS_DIR)/dkms.conf

# The Debian packages qtfs-server, qtfs-client and qtfs-dkms (debian/; docs/packages.md),
# built by dpkg-buildpackage into $(DEB_OUT) rather than the tree's parent directory.
# Install them with: apt install ./$(DEB_OUT)/qtfs-*_$(VERSION)_*.deb
DEB_ARCH = $(shell dpkg --print-architecture)
deb:
	@command -v dh >/dev/null || { echo "qtfs: debhelper is missing: run scripts/deps.sh (as root)" >&2; exit 1; }
	install -d $(DEB_OUT)
	QTFS_DEB_OUT=$(abspath $(DEB_OUT)) dpkg-buildpackage -b -us -uc \
		--buildinfo-option=-u$(abspath $(DEB_OUT)) --changes-option=-u$(abspath $(DEB_OUT)) \
		--buildinfo-file=$(abspath $(DEB_OUT))/qtfs-swift_$(VERSION)_$(DEB_ARCH).buildinfo \
		--changes-file=$(abspath $(DEB_OUT))/qtfs-swift_$(VERSION)_$(DEB_ARCH).changes
	@ls $(DEB_OUT)/*_$(VERSION)_*.deb
