"""Forms of the demo blog: comments, posts, sign-up."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

COMMENT_MAX_CHARS = 2000
TITLE_MAX_CHARS = 200
BODY_MAX_CHARS = 50_000
MAX_TAGS = 8
TAG_MAX_CHARS = 30


class CommentForm(forms.Form):
    """A comment: plain text, shown escaped (surrounding blanks stripped, so blank is empty)."""

    body = forms.CharField(
        label="Your comment",
        max_length=COMMENT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_CHARS}),
    )


class PostForm(forms.Form):
    """A post: title, Markdown body and comma-separated tags."""

    title = forms.CharField(max_length=TITLE_MAX_CHARS)
    body = forms.CharField(
        label="Body (Markdown)",
        max_length=BODY_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    tags = forms.CharField(
        required=False,
        help_text="Comma-separated, e.g. redis, caching",
        max_length=MAX_TAGS * (TAG_MAX_CHARS + 2),
    )

    def clean_title(self) -> str:
        title = " ".join(self.cleaned_data["title"].split())
        if not title:
            raise forms.ValidationError("A post needs a title.")
        return title

    def clean_tags(self) -> list[str]:
        tags = []
        for raw in self.cleaned_data["tags"].split(","):
            tag = " ".join(raw.split()).lower()
            if not tag:
                continue
            if len(tag) > TAG_MAX_CHARS:
                raise forms.ValidationError(f"Tags are at most {TAG_MAX_CHARS} characters.")
            if tag not in tags:
                tags.append(tag)
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        return tags


class SignUpForm(UserCreationForm):
    """Django's user creation form, as the sign-up page shows it."""

    class Meta(UserCreationForm.Meta):
        fields = ("username",)
