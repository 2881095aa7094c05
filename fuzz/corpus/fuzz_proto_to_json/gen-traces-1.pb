
‰
†

service.name

8a*

ctl 
	   :vMÇ


â€¨â€©?
<script>&amp;</script>host1ðŸ˜€\73y0xby4_-"9/25
1706727