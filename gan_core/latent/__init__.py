"""What a trained generator has learned: sampling z (sampling), closed-form directions (directions: SeFa), the
explorer the pages use (explorer), inversion of a drawn digit to z (inversion) and the units of its layers
(dissection)."""
