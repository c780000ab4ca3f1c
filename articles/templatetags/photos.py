from django import template

from .. import renditions

register = template.Library()


@register.simple_tag
def photo_picture(photo, crop="full"):
    """The renditions of a photo for <picture> (see articles/includes/picture.html), or None without an image.

    Built from the photo's database fields: rendering a page never opens or processes an image.
    """
    return renditions.picture(photo, crop) if photo else None


@register.simple_tag(takes_context=True)
def photo_social_url(context, photo):
    """Absolute URL of the photo's 1200x630 share image (og:image), or "" without an image."""
    if not photo or not photo.image or not photo.width:
        return ""
    url = renditions.url(photo, renditions.renditions(photo, "social")[0])
    request = context.get("request")
    return request.build_absolute_uri(url) if request else url
