"""Run the fake provider in the foreground for hand testing: python -m tests.servers."""

from __future__ import annotations

import argparse
import threading

from tests.servers import FakeServer


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.servers", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="default 8765; 0 for any")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between SSE events")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args()
    server = FakeServer(args.port, verbose=not args.quiet)
    server.delay = args.delay
    with server:
        url = server.url
        print(f"fake LLM server on {url}  (Ctrl+C to stop)")
        print(f"  ANTHROPIC_BASE_URL={url}")
        print(f"  OPENAI_BASE_URL={url}/v1")
        print(f"  GOOGLE_GEMINI_BASE_URL={url} GOOGLE_GENAI_API_VERSION=v1beta", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
