// A product's picture, small: the featured image the Shopify sync stored (image_url, image_alt), loaded
// lazily at a fixed size so the layout does not jump; a product without one keeps the same space.
// The image sits beside the product's name, so its alt text is the merchant's own description when
// there is one and empty otherwise (repeating the name would make a screen reader say it twice).

export interface Pictured {
  image_url?: string | null;
  image_alt?: string | null;
}

const SAFE = /^(https?:)?\/\//i;

export function Thumb({ item, size = 32 }: { item: Pictured; size?: number }) {
  const url = item.image_url && SAFE.test(item.image_url) ? item.image_url : null;
  if (!url) return <span className="thumb thumb-none" style={{ width: size, height: size }} aria-hidden="true" />;
  return (
    <img
      className="thumb"
      src={url}
      alt={item.image_alt ?? ""}
      width={size}
      height={size}
      loading="lazy"
      decoding="async"
    />
  );
}
