"""Kernel limits for the processes that run SPARQL queries: no network but allow-listed endpoints, bounded memory.

The engine makes real HTTP requests for ``SERVICE`` (and ``LOAD``), and whether a query calls one is
decided by the engine's own parser, which no text check can be sure to read the same way. So the limit
is put where the connection is made: a seccomp filter installed in the query process (``confine``).

- With no endpoint allowed, the process may create only Unix-domain sockets: any attempt to open an
  Internet socket fails with EACCES inside the kernel, whatever the query says.
- With endpoints allowed, Internet sockets may be created, but every ``connect()`` is held by the kernel
  and handed to a ``ConnectSupervisor`` thread in the parent, which reads the destination address from the
  query process's memory and lets the call go on only towards an address of an allowed endpoint (or the
  resolver, to look those up); any other destination gets EACCES. ``sendto`` with an address (which
  would reach a host without ``connect``) is refused outright.

On either, io_uring (which can open sockets without the socket syscall) is refused, and so are syscalls
of another ABI than the machine's own. The filter is written in classic BPF by hand, for the two
architectures we run on, so that nothing outside the Python standard library is needed.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import platform
import resource
import select
import socket
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from fcntl import ioctl
from urllib.parse import urlsplit

# Linux ABI numbers (include/uapi/linux/{seccomp,filter,audit,prctl}.h and each architecture's syscall table).
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_USER_NOTIF = 0x7FC00000
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1
NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif): 80 bytes
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp): 24 bytes
NOTIF_ID_VALID = 0x40082102  # _IOW('!', 2, __u64)
NOTIF = struct.Struct("=QII iIQ6Q")  # id, pid, flags, then seccomp_data: nr, arch, instruction pointer, args
NOTIF_RESPONSE = struct.Struct("=QqiI")  # id, val, error, flags

LOAD_WORD, JUMP_EQUAL, JUMP_AT_LEAST, RETURN = 0x20, 0x15, 0x35, 0x06
DATA_NR, DATA_ARCH = 0, 4


def _arg_low(index: int) -> int:
    return 16 + 8 * index  # offset of the low half of argument ``index`` in struct seccomp_data (little endian)


@dataclass(frozen=True)
class Architecture:
    audit_arch: int
    seccomp: int
    socket: int
    connect: int
    sendto: int
    io_uring_setup: int
    other_abi_from: int | None  # x32 syscalls on x86_64 share the audit arch; their numbers are offset


ARCHITECTURES = {
    "x86_64": Architecture(0xC000003E, seccomp=317, socket=41, connect=42, sendto=44, io_uring_setup=425,
                           other_abi_from=0x40000000),
    "aarch64": Architecture(0xC00000B7, seccomp=277, socket=198, connect=203, sendto=206, io_uring_setup=425,
                            other_abi_from=None),
}


class SandboxUnavailable(OSError):
    """This machine cannot confine a query process; refusing to run queries unconfined."""


def _architecture() -> Architecture:
    machine = platform.machine()
    if machine not in ARCHITECTURES:
        raise SandboxUnavailable(f"no seccomp filter is written for the {machine} architecture")
    return ARCHITECTURES[machine]


class _Program:
    """A BPF program assembled from labelled jumps, so that jump offsets are computed rather than counted."""

    def __init__(self):
        self.steps: list[tuple] = []
        self.labels: dict[str, int] = {}

    def load(self, offset: int) -> None:
        self.steps.append((LOAD_WORD, offset, None, None))

    def jump_if(self, code: int, value: int, target: str) -> None:
        """Go to ``target`` when the loaded word matches ``value``, else on to the next step."""
        self.steps.append((code, value, target, None))

    def jump_unless(self, code: int, value: int, target: str) -> None:
        self.steps.append((code, value, None, target))

    def ret(self, action: int) -> None:
        self.steps.append((RETURN, action, None, None))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.steps)

    def assemble(self) -> bytes:
        code = bytearray()
        for position, (op, value, if_true, if_false) in enumerate(self.steps):
            true = self.labels[if_true] - position - 1 if if_true else 0
            false = self.labels[if_false] - position - 1 if if_false else 0
            code += struct.pack("=HBBI", op, true, false, value)
        return bytes(code)


def _filter(arch: Architecture, supervised: bool) -> bytes:
    refuse = SECCOMP_RET_ERRNO | errno.EACCES
    program = _Program()
    program.load(DATA_ARCH)
    program.jump_unless(JUMP_EQUAL, arch.audit_arch, "kill")
    program.load(DATA_NR)
    if arch.other_abi_from is not None:
        program.jump_if(JUMP_AT_LEAST, arch.other_abi_from, "no-such-call")
    program.jump_if(JUMP_EQUAL, arch.io_uring_setup, "no-such-call")
    program.jump_if(JUMP_EQUAL, arch.socket, "socket")
    if supervised:
        program.jump_if(JUMP_EQUAL, arch.connect, "supervise")
        program.jump_if(JUMP_EQUAL, arch.sendto, "sendto")
    program.ret(SECCOMP_RET_ALLOW)

    program.label("socket")  # socket(domain, ...): Unix sockets always; Internet ones only when supervised
    program.load(_arg_low(0))
    program.jump_if(JUMP_EQUAL, socket.AF_UNIX, "allow")
    if supervised:
        program.jump_if(JUMP_EQUAL, socket.AF_INET, "allow")
        program.jump_if(JUMP_EQUAL, socket.AF_INET6, "allow")
    program.ret(refuse)

    if supervised:
        program.label("sendto")  # sendto(fd, buf, len, flags, dest_addr, addrlen): only without dest_addr
        program.load(_arg_low(4))
        program.jump_unless(JUMP_EQUAL, 0, "refuse")
        program.load(_arg_low(4) + 4)
        program.jump_unless(JUMP_EQUAL, 0, "refuse")
        program.ret(SECCOMP_RET_ALLOW)
        program.label("supervise")
        program.ret(SECCOMP_RET_USER_NOTIF)
        program.label("refuse")
        program.ret(refuse)
    program.label("allow")
    program.ret(SECCOMP_RET_ALLOW)
    program.label("no-such-call")
    program.ret(SECCOMP_RET_ERRNO | errno.ENOSYS)
    program.label("kill")
    program.ret(SECCOMP_RET_KILL_PROCESS)
    return program.assemble()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def confine(supervised: bool, memory_limit: int | None) -> int | None:
    """Limit this process for good: its memory, and its network as the module docstring says.

    Returns the seccomp listener descriptor when ``supervised`` (hand it to a ConnectSupervisor in another
    process, then close it here), else None. Raises SandboxUnavailable if the kernel refuses the filter.
    """
    if memory_limit:
        # Private writable memory (heap, anonymous maps): what a query's intermediate results take.
        resource.setrlimit(resource.RLIMIT_DATA, (memory_limit, memory_limit))
    arch = _architecture()
    code = _filter(arch, supervised)
    buffer = ctypes.create_string_buffer(code, len(code))
    program = _SockFprog(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}")
    flags = SECCOMP_FILTER_FLAG_NEW_LISTENER if supervised else 0
    result = libc.syscall(ctypes.c_long(arch.seccomp), ctypes.c_long(SECCOMP_SET_MODE_FILTER),
                          ctypes.c_long(flags), ctypes.byref(program))
    if result < 0:
        raise SandboxUnavailable(f"the kernel refused the seccomp filter: {os.strerror(ctypes.get_errno())}")
    return result if supervised else None


def check_available() -> None:
    """Raise SandboxUnavailable unless a query process can be confined here (tried in a throwaway child)."""
    pid = os.fork()
    if pid == 0:
        try:
            confine(supervised=False, memory_limit=None)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM):
                os._exit(3)  # the filter did not stop an Internet socket
        except PermissionError:
            os._exit(0)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SandboxUnavailable("a seccomp filter could not be installed or did not stop an Internet socket")


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"an allowed SERVICE endpoint must be an http(s) URL, not {url!r}")
        return cls(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def _nameservers(resolv_conf: str = "/etc/resolv.conf") -> set[str]:
    try:
        with open(resolv_conf, encoding="utf-8", errors="replace") as file:
            return {line.split()[1] for line in file if line.startswith("nameserver") and len(line.split()) > 1}
    except OSError:
        return set()


def _normalized(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


class ConnectSupervisor:
    """Answers the held ``connect()`` calls of one confined process: allowed destinations go on, others fail.

    Allowed: every address the allowed endpoints' host names resolve to (looked up again when a
    destination is not yet known, as DNS may rotate addresses), on the endpoint's port; and port 53 of
    the resolvers in /etc/resolv.conf, which the process needs to look the names up itself.
    """

    def __init__(self, listener: int, endpoints: Iterable[Endpoint], on_refused=None):
        self.listener = listener
        self.endpoints = tuple(endpoints)
        self.on_refused = on_refused
        self._allowed: set[tuple[str, int]] = set()
        self._resolvers = {_normalized(address) for address in _nameservers()}
        self._thread = threading.Thread(target=self._serve, daemon=True, name=f"connect-supervisor-{listener}")
        self._thread.start()

    def _serve(self) -> None:
        poll = select.poll()
        poll.register(self.listener, select.POLLIN)
        try:
            while True:
                events = poll.poll()
                if any(event & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, event in events):
                    return  # the confined process is gone
                self._answer_one()
        finally:
            os.close(self.listener)

    def _answer_one(self) -> None:
        request = bytearray(NOTIF.size)
        try:
            ioctl(self.listener, NOTIF_RECV, request, True)
        except OSError:  # ENOENT: the call was interrupted (the process died or got a signal) before we read it
            return
        notification_id, pid, _, _, _, _, *args = NOTIF.unpack(request)
        destination = self._destination(pid, args[1], args[2])
        try:
            ioctl(self.listener, NOTIF_ID_VALID, struct.pack("=Q", notification_id))
        except OSError:
            return  # the thread that called connect is gone: what we read may be another's memory
        allowed = destination is None or self._is_allowed(destination)
        if not allowed and self.on_refused:
            self.on_refused(destination)
        response = NOTIF_RESPONSE.pack(notification_id, 0, 0 if allowed else -errno.EACCES,
                                       SECCOMP_USER_NOTIF_FLAG_CONTINUE if allowed else 0)
        try:
            ioctl(self.listener, NOTIF_SEND, bytearray(response), True)
        except OSError:
            pass  # the process died meanwhile

    @staticmethod
    def _destination(pid: int, address: int, length: int) -> tuple[str, int] | None | str:
        """(ip, port) for an Internet address; None for AF_UNSPEC (a datagram socket's disconnect); else
        a description, which is never allowed."""
        try:
            with open(f"/proc/{pid}/mem", "rb", buffering=0) as memory:
                memory.seek(address)
                raw = memory.read(min(length, 128))
        except (OSError, OverflowError, ValueError):
            return "unreadable address"
        if len(raw) < 2:
            return "short address"
        family = struct.unpack_from("=H", raw)[0]
        if family == socket.AF_UNSPEC:
            return None
        if family == socket.AF_INET and len(raw) >= 8:
            return socket.inet_ntop(socket.AF_INET, raw[4:8]), struct.unpack_from("!H", raw, 2)[0]
        if family == socket.AF_INET6 and len(raw) >= 24:
            return _normalized(socket.inet_ntop(socket.AF_INET6, raw[8:24])), struct.unpack_from("!H", raw, 2)[0]
        return f"address family {family}"

    def _is_allowed(self, destination) -> bool:
        if not isinstance(destination, tuple):
            return False
        address, port = destination
        if port == 53 and address in self._resolvers:
            return True
        if destination not in self._allowed:
            self._allowed |= self._resolve()
        return destination in self._allowed

    def _resolve(self) -> set[tuple[str, int]]:
        found = set()
        for endpoint in self.endpoints:
            try:
                infos = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
            except OSError:
                continue
            found |= {(_normalized(info[4][0]), endpoint.port) for info in infos}
        return found
