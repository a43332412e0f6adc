"""Small server-rendered pages; every value is escaped."""

from __future__ import annotations

import html

from aiohttp import web

_APPLE_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mail settings for iPhone, iPad and Mac</title>
<style>
body{{font-family:-apple-system,system-ui,sans-serif;max-width:32rem;margin:2rem auto;
padding:0 1rem;line-height:1.5}}
input,button{{font-size:1.1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0}}
button{{background:#0a66c2;color:#fff;border:0;border-radius:.3rem}}
</style>
</head>
<body>
<h1>Set up mail on your iPhone, iPad or Mac</h1>
<p>Enter your e-mail address and download the settings profile. Your device asks you to
install it, then asks for your password. The profile sets the account up over IMAP, so your
mail stays on the server and every device sees the same messages.</p>
<form method="get" action="/apple/mail.mobileconfig">
<label for="emailaddress">E-mail address</label>
<input id="emailaddress" name="emailaddress" type="email" required autocomplete="email"
 placeholder="you@example.com" value="{address}">
<button type="submit">Download profile</button>
</form>
<p><small>On a Mac, open the downloaded file, then finish in System Settings &gt; Profiles.
On an iPhone or iPad, open Settings &gt; Profile Downloaded.</small></p>
</body>
</html>
"""


async def apple(request: web.Request) -> web.Response:
    """The page that asks for the address and offers the profile download."""
    address = html.escape(request.query.get("emailaddress", "")[:254], quote=True)
    return web.Response(text=_APPLE_PAGE.format(address=address), content_type="text/html")
