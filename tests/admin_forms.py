"""Read an admin form out of a page the way a browser would submit it, so tests post what users post."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields = []
        self.select = None
        self.select_options = []
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = self.form_id is None or attrs.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name and "__prefix__" not in name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name and "__prefix__" not in name:
            self.select, self.select_options = name, []
        elif tag == "option" and self.select:
            self.select_options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name and "__prefix__" not in name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.textarea:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.select_options if selected]
            if not chosen and self.select_options:
                chosen = [self.select_options[0][0]]
            self.fields.extend((self.select, value) for value in chosen)
            self.select = None
        elif tag == "textarea" and self.textarea:
            name, text = self.textarea
            # A browser drops the newline that opens a textarea, and sends its line breaks as CRLF.
            self.fields.append((name, text.removeprefix("\n").replace("\n", "\r\n")))
            self.textarea = None


def read_form(html, form_id=None):
    """The form's fields as a dict (single values) ready for the test client's post()."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return dict(reader.fields)


def load_change_form(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return read_form(response.content.decode(), "article_form")
