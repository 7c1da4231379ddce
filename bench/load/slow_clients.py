#!/usr/bin/env python3
"""Many connections for bench/faults.sh. A connection the server closes is opened again at once,
so N stay open for the whole run.

    slow_clients.py PORT N SECONDS [INTERVAL] [MODE]

MODE slow (default): each connection trickles the headers of one request, a byte every INTERVAL
seconds, and never finishes it (slowloris). MODE idle: each sends one whole request
(GET /healthz), reads the answer and then stays open without a word (a crowd of idle keep-alive
browsers).

At the end one machine-readable line:
    RESULT mode=M clients=N opened=O closed_by_server=C refused=R answers=A close_p50_s=X close_max_s=Y
closed_by_server counts connections the server ended, with the time from connect to close (its
read timeout for slow ones, its idle timeout for idle ones); refused counts connects that failed;
answers counts reads that got bytes back (an idle client: its one answer).
"""
import selectors
import socket
import sys
import time

SLOW = (b"GET /v1/search?q=slow HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow-client\r\n"
        + b"X-Padding: " + b"a" * 4000)  # never ends: no final CRLF CRLF
IDLE = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: idle-client\r\n\r\n"


def main():
    port, n, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    interval = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    mode = sys.argv[5] if len(sys.argv) > 5 else "slow"
    request, step = (SLOW, 1) if mode == "slow" else (IDLE, len(IDLE))
    answers = 0
    sel = selectors.DefaultSelector()
    conns = {}  # socket -> [opened_at, bytes_sent, next_send_at]
    opened = refused = 0
    close_times = []

    def open_one(now):
        nonlocal opened, refused
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            return
        opened += 1
        conns[s] = [now, 0, now]
        sel.register(s, selectors.EVENT_READ)

    def drop(s, now, by_server):
        if by_server:
            close_times.append(now - conns[s][0])
        sel.unregister(s)
        s.close()
        del conns[s]

    start = time.monotonic()
    end = start + seconds
    # Open them gradually (100 per 0.1 s), as a crowd would.
    while time.monotonic() < end:
        now = time.monotonic()
        for _ in range(min(100, n - len(conns))):
            open_one(now)
        for key, _ in sel.select(timeout=0.05):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # EOF or reset: the server gave up on us
                drop(s, now, True)
            else:
                answers += conns[s][1] > 0
            # anything else (an error response) is read and ignored; the close follows
        now = time.monotonic()
        for s, st in list(conns.items()):
            if now >= st[2] and st[1] < len(request):
                try:
                    st[1] += s.send(request[st[1]:st[1] + step])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    drop(s, now, True)
                    continue
                st[2] = now + interval
    for s in list(conns):
        drop(s, time.monotonic(), False)
    close_times.sort()
    p50 = close_times[len(close_times) // 2] if close_times else 0.0
    mx = close_times[-1] if close_times else 0.0
    print(f"RESULT mode={mode} clients={n} opened={opened} closed_by_server={len(close_times)} "
          f"refused={refused} answers={answers} close_p50_s={p50:.2f} close_max_s={mx:.2f}",
          flush=True)


if __name__ == "__main__":
    main()
